// A Dockerfile as data: what the parser (dockerfile.ts) produces and the
// builder (builder.ts) executes. Arguments are kept as written (unexpanded);
// the builder expands them with the ARG/ENV in scope at that step, because
// the values are known only while building (--build-arg, an earlier ENV).
// Every instruction carries its source line so errors and the "Step N/M"
// stream can name it.

/** Where an instruction came from: 1-based line (of its first physical line) and column. */
export interface SourceLocation {
  line: number;
  column: number;
}

/** Shell form (`RUN echo hi`: one string run by SHELL) or exec form (`RUN ["echo","hi"]`). */
export type CommandForm = { form: 'shell'; command: string } | { form: 'exec'; argv: string[] };

/** `--name=value` flags written before the arguments (COPY --from=, --chown=, --chmod=; FROM --platform=). */
export type Flags = Record<string, string>;

interface Base {
  loc: SourceLocation;
  /** The instruction as written, continuation lines joined, for "Step N/M : ..." and the history. */
  original: string;
  flags: Flags;
}

export type Instruction =
  | (Base & { kind: 'FROM'; image: string; stageName?: string })
  | (Base & { kind: 'RUN'; command: CommandForm })
  | (Base & { kind: 'CMD'; command: CommandForm })
  | (Base & { kind: 'ENTRYPOINT'; command: CommandForm })
  | (Base & { kind: 'SHELL'; argv: string[] })
  /** COPY and ADD: sources relative to the context (or the --from stage/image), then the destination. */
  | (Base & { kind: 'COPY' | 'ADD'; sources: string[]; dest: string })
  /** ENV and LABEL: key/value pairs in order (`ENV A=1 B=2` and the legacy `ENV A 1`). */
  | (Base & { kind: 'ENV' | 'LABEL'; pairs: Array<{ key: string; value: string }> })
  /** ARG NAME or ARG NAME=default; several per line allowed. */
  | (Base & { kind: 'ARG'; args: Array<{ name: string; default?: string }> })
  | (Base & { kind: 'WORKDIR'; path: string })
  | (Base & { kind: 'USER'; user: string })
  | (Base & { kind: 'EXPOSE'; ports: string[] })
  | (Base & { kind: 'VOLUME'; paths: string[] })
  | (Base & { kind: 'STOPSIGNAL'; signal: string })
  | (Base & { kind: 'HEALTHCHECK'; check: HealthcheckSpec })
  /** ONBUILD stores its trigger text; a child build parses and runs it after its FROM. */
  | (Base & { kind: 'ONBUILD'; trigger: string })
  | (Base & { kind: 'MAINTAINER'; name: string });

export type InstructionKind = Instruction['kind'];

/** HEALTHCHECK NONE, or CMD with options (durations as Docker writes them: "30s", "1m30s"). */
export type HealthcheckSpec =
  | { none: true }
  | {
      none: false;
      command: CommandForm;
      interval?: string;
      timeout?: string;
      startPeriod?: string;
      retries?: number;
    };

/** One FROM and what follows it, up to the next FROM. */
export interface Stage {
  /** 0-based position; `COPY --from=0` names a stage by it. */
  index: number;
  /** `AS name`, lowercased as Docker does. */
  name?: string;
  from: Instruction & { kind: 'FROM' };
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Parser directives at the top (`# escape=`` `, `# syntax=...`). */
  directives: Record<string, string>;
  /** ARG instructions before the first FROM: usable in FROM lines only. */
  metaArgs: Array<Instruction & { kind: 'ARG' }>;
  stages: Stage[];
  /** Docker's parser warnings (empty continuation lines), in its words, for the build output. */
  warnings: string[];
}
