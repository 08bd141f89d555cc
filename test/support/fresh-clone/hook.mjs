// A module resolve hook that makes the offline-generated Prisma test client "missing", as on a
// fresh clone before anything generated it (test/unit/bench-fresh-clone.test.ts).
export async function resolve(specifier, context, nextResolve) {
  if (/generated\/prisma\/client(\.[cm]?[jt]s)?$/.test(specifier)) {
    const error = new Error(`Cannot find module '${specifier}' (a fresh clone has no generated Prisma client)`);
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return nextResolve(specifier, context);
}
