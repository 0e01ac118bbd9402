// Moved to src/playground (the playground runs on it too); tests import it from here.
export * from "../../src/playground/fake-whatsapp.ts";
