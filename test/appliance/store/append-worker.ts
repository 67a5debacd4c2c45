/**
 * Child process for the cross-process atomicity test: appends N audit entries to the store file
 * given on the command line as fast as it can.
 */
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';

const [path, countText, name] = process.argv.slice(2);
const store = openSqliteStore(path!);
for (let i = 0; i < Number(countText); i++) {
  store.appendAudit({ atMs: i, actor: `operator:${name}`, action: 'apply', result: 'ok', detail: { i } });
}
store.close();
