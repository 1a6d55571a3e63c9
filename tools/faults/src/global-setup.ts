import { serverUrl } from './database.js';

/** Fails the whole run at once, with what to do, when there is no server to run against. */
export default function setup(): void {
  serverUrl();
}
