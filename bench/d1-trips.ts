// D1 round trips per run in the Workers runtime: the counter lives with the Workers tests.
export { countD1Trips, type D1Trips } from "../test/workers/d1-trips";
