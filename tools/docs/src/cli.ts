/** `pnpm --filter @pgqueue/docs typecheck`: compiles every documentation snippet, exits 1 on any error. */
import { fileURLToPath } from 'node:url';
import { checkRepository } from './snippets.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const { modules, diagnostics } = checkRepository(root);
for (const { where, message } of diagnostics) console.error(`${where}: ${message}`);
console.log(`docs snippets: ${modules.length} modules compiled, ${diagnostics.length} errors`);
process.exitCode = diagnostics.length === 0 ? 0 : 1;
