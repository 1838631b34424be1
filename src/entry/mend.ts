// The bundle's entry (dist/mend.js, run by bin/mend): the command line.
import { main } from "./cli";

void main(process.argv.slice(2)).then((code) => process.exit(code));
