// vitest globalSetup: makes sure the offline-generated Prisma test client exists and matches
// test/support/prisma/schema.prisma before any test file imports it. Runs once per `vitest run`;
// a no-op (one hash of the schema) when the client is current.
import { ensurePrismaTestClient } from "./prisma-generate.js";

export default function setup(): void {
  ensurePrismaTestClient();
}
