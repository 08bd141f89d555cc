// `node --import ./register.mjs`: installs hook.mjs.
import { register } from "node:module";

register("./hook.mjs", import.meta.url);
