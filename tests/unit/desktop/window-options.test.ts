/** The main window's options carry every flag of Electron's security checklist. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mainWindowOptions } from '../../../electron/desktop/window-options.js';

const options = mainWindowOptions({ preloadPath: '/app/dist/electron/desktop/preload.cjs' });
const prefs = options.webPreferences ?? {};

test('the renderer is isolated and sandboxed, without Node', () => {
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInWorker, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
});

test('web security stays on and insecure content, webviews and experiments stay off', () => {
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.allowRunningInsecureContent, false);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.experimentalFeatures, false);
  assert.equal(prefs.navigateOnDragDrop, false);
});

test('the preload is the bundled file given, and the window waits to be shown', () => {
  assert.equal(prefs.preload, '/app/dist/electron/desktop/preload.cjs');
  assert.equal(options.show, false);
});

test('no option outside the reviewed list is set in webPreferences', () => {
  const reviewed = [
    'preload',
    'contextIsolation',
    'sandbox',
    'nodeIntegration',
    'nodeIntegrationInWorker',
    'nodeIntegrationInSubFrames',
    'webSecurity',
    'allowRunningInsecureContent',
    'webviewTag',
    'experimentalFeatures',
    'navigateOnDragDrop',
    'spellcheck',
  ];
  assert.deepEqual(Object.keys(prefs).sort(), [...reviewed].sort());
});
