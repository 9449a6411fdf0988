import winston from 'winston';

/** The application's logger: JSON lines; per-request children carry `requestId` (the fault's `Id`) and `ticket`. */
export type Logger = winston.Logger;

const ELEVEN_DIGITS = /(?<!\d)(\d{6})\d{5}(?!\d)/g;

/** Masks an INSS for the log: the birth date stays, the serial and check digits do not. */
export function maskInss(inss: string): string {
  return inss.replace(ELEVEN_DIGITS, '$1*****');
}

function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskInss(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, depth + 1));
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.length} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = maskDeep(item, depth + 1);
  return out;
}

/**
 * Safety net under the explicit masking at call sites: any 11-digit run (an INSS) in a logged string
 * is masked, and buffers are logged as their length only, never their bytes.
 */
const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    (info as Record<string, unknown>)[key] = maskDeep((info as Record<string, unknown>)[key]);
  }
  return info;
});

/**
 * Makes each level method (`info`, `debug`, ...) return at once when its level is not enabled. winston
 * builds the entry and sends it through its stream and formats before it looks at the level, which
 * costs every request its `info` lines even at RM_LOG_LEVEL=warn. Children (`logger.child()`) inherit
 * the methods, and `this` is the child, so a child's own level is the one checked.
 */
function skipDisabledLevels(logger: Logger): Logger {
  const methods = logger as unknown as Record<string, (this: Logger, ...args: unknown[]) => Logger>;
  for (const level of Object.keys(logger.levels)) {
    const write = methods[level];
    methods[level] = function (this: Logger, ...args: unknown[]): Logger {
      return this.isLevelEnabled(level) ? write.apply(this, args) : this;
    };
  }
  return logger;
}

/** The fields a child logger adds to every entry (its own and its ancestors'). */
const CHILD_FIELDS = Symbol('childFields');

type ChildLogger = Logger & { [CHILD_FIELDS]: object };

/**
 * Gives `logger` children that all inherit from one prototype made once: an object with the fields,
 * whose `write` hands the root each entry with the fields added (as winston's own child does: the
 * child's fields first, the entry's own winning, an Error's stack, message and cause copied), and whose
 * `child` makes a sibling with the fields of both (the new ones winning). winston makes each child with
 * `Object.create(parent, descriptors)`: a child's child turned its parent into a prototype, which V8 sets
 * up anew for every such object, and the descriptors cost as much again (about 4 µs per request-scoped
 * child, two per request). What is logged is the same.
 */
function makeChildrenFromOnePrototype(logger: Logger): Logger {
  const childPrototype = Object.create(logger) as ChildLogger;
  const makeChild = (fields: object): Logger => {
    const child = Object.create(childPrototype) as ChildLogger;
    child[CHILD_FIELDS] = fields;
    return child;
  };
  Object.defineProperties(childPrototype, {
    write: {
      value(this: ChildLogger, info: winston.Logform.TransformableInfo): void {
        const entry: Record<string, unknown> = Object.assign({}, this[CHILD_FIELDS], info);
        if (info instanceof Error) {
          entry.stack = info.stack;
          entry.message = info.message;
          entry.cause = info.cause;
        }
        logger.write(entry as winston.Logform.TransformableInfo);
      },
    },
    child: {
      value(this: ChildLogger, more: object): Logger {
        return makeChild({ ...this[CHILD_FIELDS], ...more });
      },
    },
  });
  logger.child = makeChild;
  return logger;
}

/** Creates the root logger. `silent` is for tests that capture nothing. */
export function createLogger(options: { level?: string; silent?: boolean } = {}): Logger {
  return makeChildrenFromOnePrototype(
    skipDisabledLevels(
      winston.createLogger({
        level: options.level ?? 'info',
        silent: options.silent ?? false,
        format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
        transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
      }),
    ),
  );
}
