/**
 * The one lifecycle every long-running part of Floodgate follows. The appliance starts
 * components in dependency order and stops them in reverse, also after a failed start.
 */
export interface Component {
  /** Short name used in logs and errors ("collector.netflow", "http", "store"). */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
