/** The ENCRYPTION_KEY of databases opened directly by tests (the harness passes its own through the environment). */
export const TEST_KEY = Buffer.alloc(32, 5);
