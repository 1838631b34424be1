// Property tests explore new random cases on every local run; under CI the
// seed is fixed so a submission's result does not depend on luck.
import fc from "fast-check";

if (process.env.CI) fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261122) });
