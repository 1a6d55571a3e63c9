/** The pgq entry point when run from the sources (pnpm pgq, the tests); bin/pgq.js runs the build's. */
import { main } from './program.js';

process.exitCode = await main(process.argv);
