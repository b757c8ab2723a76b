// What a long image operation reports as it goes, per layer. The CLI draws it
// (bars on a terminal, lines otherwise); the library only calls these.
export interface Progress {
  layer(id: string, total: number): void;
  update(id: string, done: number): void;
  status(id: string, state: string): void;
  done(): void;
}

export const silentProgress: Progress = { layer() {}, update() {}, status() {}, done() {} };
