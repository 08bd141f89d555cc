// SQLite result code names -> numbers (https://sqlite.org/rescode.html). better-sqlite3 reports
// only the name (`SqliteError.code`), Prisma wants the extended code number.

const PRIMARY = {
  SQLITE_ERROR: 1, SQLITE_INTERNAL: 2, SQLITE_PERM: 3, SQLITE_ABORT: 4, SQLITE_BUSY: 5,
  SQLITE_LOCKED: 6, SQLITE_NOMEM: 7, SQLITE_READONLY: 8, SQLITE_INTERRUPT: 9, SQLITE_IOERR: 10,
  SQLITE_CORRUPT: 11, SQLITE_NOTFOUND: 12, SQLITE_FULL: 13, SQLITE_CANTOPEN: 14,
  SQLITE_PROTOCOL: 15, SQLITE_EMPTY: 16, SQLITE_SCHEMA: 17, SQLITE_TOOBIG: 18,
  SQLITE_CONSTRAINT: 19, SQLITE_MISMATCH: 20, SQLITE_MISUSE: 21, SQLITE_NOLFS: 22,
  SQLITE_AUTH: 23, SQLITE_FORMAT: 24, SQLITE_RANGE: 25, SQLITE_NOTADB: 26, SQLITE_NOTICE: 27,
  SQLITE_WARNING: 28,
} as const;

type PrimaryName = keyof typeof PRIMARY;

// Extended codes are `primary | (n << 8)`; listed by primary code, n in order.
const EXTENDED: ReadonlyArray<readonly [PrimaryName, readonly string[]]> = [
  ["SQLITE_ERROR", ["MISSING_COLLSEQ", "RETRY", "SNAPSHOT", "RESERVESIZE", "KEY", "UNABLE"]],
  ["SQLITE_IOERR", [
    "READ", "SHORT_READ", "WRITE", "FSYNC", "DIR_FSYNC", "TRUNCATE", "FSTAT", "UNLOCK", "RDLOCK",
    "DELETE", "BLOCKED", "NOMEM", "ACCESS", "CHECKRESERVEDLOCK", "LOCK", "CLOSE", "DIR_CLOSE",
    "SHMOPEN", "SHMSIZE", "SHMLOCK", "SHMMAP", "SEEK", "DELETE_NOENT", "MMAP", "GETTEMPPATH",
    "CONVPATH", "VNODE", "AUTH", "BEGIN_ATOMIC", "COMMIT_ATOMIC", "ROLLBACK_ATOMIC", "DATA",
    "CORRUPTFS", "IN_PAGE",
  ]],
  ["SQLITE_LOCKED", ["SHAREDCACHE", "VTAB"]],
  ["SQLITE_BUSY", ["RECOVERY", "SNAPSHOT", "TIMEOUT"]],
  ["SQLITE_CANTOPEN", ["NOTEMPDIR", "ISDIR", "FULLPATH", "CONVPATH", "DIRTYWAL", "SYMLINK"]],
  ["SQLITE_CORRUPT", ["VTAB", "SEQUENCE", "INDEX"]],
  ["SQLITE_READONLY", ["RECOVERY", "CANTLOCK", "ROLLBACK", "DBMOVED", "CANTINIT", "DIRECTORY"]],
  ["SQLITE_ABORT", ["ROLLBACK"]],
  ["SQLITE_CONSTRAINT", [
    "CHECK", "COMMITHOOK", "FOREIGNKEY", "FUNCTION", "NOTNULL", "PRIMARYKEY", "TRIGGER", "UNIQUE",
    "VTAB", "ROWID", "PINNED", "DATATYPE",
  ]],
  ["SQLITE_NOTICE", ["RECOVER_WAL", "RECOVER_ROLLBACK", "RBU"]],
  ["SQLITE_WARNING", ["AUTOINDEX"]],
  ["SQLITE_AUTH", ["USER"]],
];

const BY_NAME: ReadonlyMap<string, number> = (() => {
  const map = new Map<string, number>(Object.entries(PRIMARY));
  for (const [primary, names] of EXTENDED) {
    names.forEach((name, i) => map.set(`${primary}_${name}`, PRIMARY[primary] | ((i + 1) << 8)));
  }
  return map;
})();

// better-sqlite3 names codes it does not know `UNKNOWN_SQLITE_ERROR_<n>`.
const UNKNOWN_PREFIX = "UNKNOWN_SQLITE_ERROR_";

/** The extended result code for a better-sqlite3 code name, or undefined when it is not one. */
export function sqliteCodeFromName(name: string): number | undefined {
  const known = BY_NAME.get(name);
  if (known !== undefined) return known;
  if (name.startsWith(UNKNOWN_PREFIX)) {
    const n = Number(name.slice(UNKNOWN_PREFIX.length));
    return Number.isInteger(n) ? n : undefined;
  }
  return undefined;
}

/** The primary result code (low byte) of an extended code. */
export function primaryCode(extended: number): number {
  return extended & 0xff;
}

export const SQLITE_BUSY = PRIMARY.SQLITE_BUSY;
