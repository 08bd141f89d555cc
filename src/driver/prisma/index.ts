// `litefs-node/prisma`: the Prisma 7 driver adapter on a guarded SQLite connection.
//
//   import { PrismaLiteFS, isNotPrimaryError } from "litefs-node/prisma";
//   const prisma = new PrismaClient({ adapter: new PrismaLiteFS({ settings }) });
export { PrismaLiteFS, type PrismaLiteFSOptions } from "./factory.js";
export { LiteFSPrismaAdapter, LiteFSPrismaTransaction, ADAPTER_NAME } from "./adapter.js";
export type { TimestampFormat } from "./conversion.js";
export * from "../entry-errors.js";
