/**
 * A TCP proxy in front of the test server, to simulate an outage: `down()` cuts every open
 * connection and resets new ones until `up()`; `stall()` keeps every connection open but forwards
 * nothing in either direction (a hung server or a black-holed network path: statements neither
 * fail nor return) until `up()`, which delivers what was held back, as TCP would after a healed
 * partition. The real server stays untouched for other tests.
 */
import net from 'node:net';

export interface OutageProxy {
  /** DATABASE_URL with host and port pointing at the proxy. */
  url: string;
  /** Connections accepted so far (including reset ones): shows whether a client still retries. */
  readonly accepted: number;
  /** Connections open through the proxy now (client side). */
  readonly open: number;
  down(): void;
  /** Holds every byte in both directions, on open and new connections, until `up()`. */
  stall(): void;
  up(): void;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startOutageProxy(databaseUrl: string): Promise<OutageProxy> {
  const target = new URL(databaseUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname;
  const sockets = new Set<net.Socket>();
  const links = new Set<Link>();
  let isDown = false;
  let isStalled = false;
  let accepted = 0;

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  // A paused socket reads nothing more, so its bytes wait in the kernel buffers, as on a dead path.
  const hold = ({ client, upstream }: Link) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const forward = ({ client, upstream }: Link) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const server = net.createServer((client) => {
    accepted += 1;
    track(client);
    if (isDown) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    track(upstream);
    const link: Link = { client, upstream };
    links.add(link);
    if (isStalled) hold(link);
    else forward(link);
    client.on('close', () => {
      links.delete(link);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  return {
    url: url.toString(),
    get accepted() {
      return accepted;
    },
    get open() {
      return links.size;
    },
    down() {
      isDown = true;
      isStalled = false;
      for (const socket of sockets) socket.destroy();
    },
    stall() {
      if (isStalled) return;
      isStalled = true;
      for (const link of links) hold(link);
    },
    up() {
      isDown = false;
      if (!isStalled) return;
      isStalled = false;
      for (const link of links) forward(link);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
