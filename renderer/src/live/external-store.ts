/**
 * The smallest external store React's useSyncExternalStore needs: a version number that
 * changes on every update, and listeners told about it. The live stores below keep their
 * data outside React so a 1 Hz event never re-renders pages that do not read it.
 */
export class ExternalStore {
  private readonly listeners = new Set<() => void>();
  private version = 0;

  /** For useSyncExternalStore: bound, so it can be passed as is. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getVersion = (): number => this.version;

  protected changed(): void {
    this.version += 1;
    for (const listener of [...this.listeners]) listener();
  }
}
