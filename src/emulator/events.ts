// A typed, synchronous event emitter: how one route module tells another that something happened (a
// cluster stopped, so the contexts module drops its contexts) without importing it.

export class Emitter<E extends object> {
  #listeners = new Map<keyof E, Set<(event: never) => void>>();

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof E>(type: K, listener: (event: E[K]) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, set = new Set());
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  emit<K extends keyof E>(type: K, event: E[K]): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      (listener as (event: E[K]) => void)(event);
    }
  }
}
