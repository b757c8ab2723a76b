// What a long image operation reports as it goes, per layer. The CLI draws it
// (bars on a terminal, lines otherwise); the library only calls these.
export interface Progress {
  /** The manifest is here: what the name resolved to and the image ID (its config digest), before any layer. */
  resolved?(image: { target: string; config: string }): void;
  layer(id: string, total: number): void;
  update(id: string, done: number): void;
  status(id: string, state: string): void;
  done(): void;
}

export const silentProgress: Progress = { layer() {}, update() {}, status() {}, done() {} };
