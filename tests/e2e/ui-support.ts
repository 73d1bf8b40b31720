/**
 * What the UI e2e suites share: `relaydeck serve` started as a user starts it (a config
 * file with free ports and a known token, no nodes and no routes, so the first-run demo
 * installs itself), headless Debian Chromium signed in with the token, screenshots, and
 * small real HTTP clients of the relay. Screenshots go to build/screenshots/ (tracked: the
 * README shows them) only when asked (`npm run screenshots`, or SCREENSHOTS=1); otherwise
 * to a temp folder, so `npm test` leaves the working tree clean.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright';
import { waitFor } from '../helpers/http.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** True when this run should refresh the tracked screenshots. */
export const WRITE_SCREENSHOTS = process.env.SCREENSHOTS === '1' || process.env.npm_lifecycle_event === 'screenshots';
/** Where screenshots go: build/screenshots/ when asked, else a temp folder of this process. */
export const SCREENSHOT_DIR = WRITE_SCREENSHOTS ? path.join(ROOT, 'build', 'screenshots') : path.join(os.tmpdir(), `relaydeck-screenshots-${process.pid}`);
// A temp folder goes when the test process does (the screenshots were looked at by the tests, not kept).
if (!WRITE_SCREENSHOTS) process.once('exit', () => rmSync(SCREENSHOT_DIR, { recursive: true, force: true }));
export const UI_TOKEN = 'e2e-ui-token-0123456789';
/** Viewport of every screenshot, CSS px. */
export const VIEWPORT = { width: 1280, height: 860 };
/** Longest wait for one thing to appear on a page, ms. */
export const UI_WAIT_MS = 15_000;

const BIN = path.join(ROOT, 'electron', 'bin', 'relaydeck.mjs');

/** Why the UI suites cannot run here, or false. */
export function uiSkipReason(noChromium: string | false): string | false {
  if (noChromium) return noChromium;
  if (!existsSync(path.join(ROOT, 'dist', 'renderer', 'index.html')) || !existsSync(path.join(ROOT, 'dist', 'electron', 'engine', 'cli.js')))
    return 'dist/ is not built: run `npm run build` first';
  return false;
}

export interface Served {
  child: ChildProcess;
  relayUrl: string;
  adminUrl: string;
  home: string;
  configPath: string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** `relaydeck serve --config FILE` with `config` written first; resolves once both servers listen. */
export async function startServe(config: Record<string, unknown>): Promise<Served> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-ui-'));
  const configPath = path.join(home, 'config.json');
  await fs.writeFile(configPath, JSON.stringify(config), { mode: 0o600 });
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configPath], {
    env: { ...process.env, RELAYDECK_HOME: home, RELAYDECK_LOG_LEVEL: process.env.RELAYDECK_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => /admin listening on/.test(stdout) || child.exitCode !== null, 20_000, 'relaydeck serve to listen');
  if (child.exitCode !== null) throw new Error(`relaydeck serve exited ${child.exitCode}:\n${stderr}`);
  return {
    child,
    relayUrl: /relay listening on (http:\/\/\S+)/.exec(stdout)![1],
    adminUrl: /admin listening on (http:\/\/\S+)/.exec(stdout)![1],
    home,
    configPath,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      await fs.rm(home, { recursive: true, force: true });
      return code;
    },
  };
}

/** Console errors and uncaught page errors (CSP violations show up as console errors). */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

/** A page on the admin URL, signed in with the token (asked once, kept in sessionStorage). */
export async function openSignedIn(browser: Browser, adminUrl: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light', acceptDownloads: true });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${adminUrl}/`);
  await page.getByLabel('Admin token').fill(UI_TOKEN, { timeout: UI_WAIT_MS });
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor({ timeout: UI_WAIT_MS });
  return { page, problems };
}

export async function goTo(page: Page, id: string, heading: string): Promise<void> {
  await page.getByRole('link', { name: heading, exact: false }).first().click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: UI_WAIT_MS });
  if (!page.url().endsWith(`#/${id}`)) throw new Error(`expected #/${id}, at ${page.url()}`);
}

/** Wait until the preview's video plays past 0.5 s; resolves its currentTime then. */
export async function previewPlaying(page: Page, what = 'the preview to play'): Promise<{ video: Locator; currentTime: number }> {
  const video = page.getByTestId('preview-video');
  await video.waitFor({ timeout: UI_WAIT_MS });
  const currentTime = await waitFor(
    async () => {
      const t = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
      return t > 0.5 ? t : undefined;
    },
    UI_WAIT_MS,
    what,
  );
  return { video, currentTime };
}

/** Save a screenshot of the page as NAME.png in SCREENSHOT_DIR. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await fs.mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.mouse.move(0, 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file });
  return file;
}

/** One GET through the relay without following redirects: status and Location. */
export function probe(url: string, headers: Record<string, string> = {}): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers }, (res) => {
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      res.destroy();
    });
    req.on('error', reject);
  });
}

/** A real HTTP-FLV viewer of the relay that counts bytes; `closed` resolves when the relay ends it. */
export interface HeldViewer {
  bytes: () => number;
  closed: Promise<void>;
  close(): void;
}

export function holdViewer(url: string, userAgent: string): Promise<HeldViewer> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((r) => (markClosed = r));
    const req = http.get(url, { agent: false, headers: { 'user-agent': userAgent } }, (res) => {
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('error', () => undefined);
      res.on('close', markClosed);
      resolve({ bytes: () => bytes, closed, close: () => req.destroy() });
    });
    req.on('error', (error) => {
      markClosed();
      reject(error);
    });
  });
}
