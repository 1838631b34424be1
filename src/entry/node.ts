// `npm run dev` and tests: the server from source (tsx). Production runs the bundle: bin/mend → dist/mend.js.
import { main } from "./cli";

void main(["start", ...process.argv.slice(2)]).then((code) => process.exit(code));
