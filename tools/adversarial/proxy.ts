// A loopback TCP proxy in front of the RPC node, so the harness can take "the RPC node" away from
// the agents for a while (every connection dropped, new ones refused) and bring it back, without
// losing the chain's state.
import { connect, createServer, type Server, type Socket } from "node:net";

export class RpcProxy {
  private server?: Server;
  private sockets = new Set<Socket>();
  private downUntil = 0;
  port = 0;
  outages = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get down(): boolean {
    return Date.now() < this.downUntil;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const a = this.server.address();
    this.port = typeof a === "object" && a ? a.port : 0;
  }

  /** The node "stops" for `ms`: open connections are cut and new ones refused until then. */
  outage(ms: number): void {
    this.outages++;
    this.downUntil = Date.now() + ms;
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
