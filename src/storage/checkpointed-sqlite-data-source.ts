import {
  DataSource,
  type AfterQueryEvent,
  type DataSourceOptions,
  type EntitySubscriberInterface,
} from 'typeorm';
import type { CommitListener } from './run-statement';
import { databaseFileOf, runSerializedWrite } from './serial-access';
import { WalCheckpointer, type PragmaConnection, type WalCheckpointerOptions } from './wal-checkpointer';
import { walDurabilityOf } from './wal-durability';

/**
 * Tells the checkpointer of every commit of the DataSource: each transaction's, and each statement's
 * that writes outside a transaction (it commits by itself; TypeORM runs `update()` and `delete()` so).
 */
class CommitCounter implements EntitySubscriberInterface, CommitListener {
  readonly listensForCommitsOnly = true;

  constructor(private readonly checkpointer: WalCheckpointer) {}

  afterTransactionCommit(): void {
    this.checkpointer.noteCommit();
  }

  afterQuery(event: AfterQueryEvent): void {
    // better-sqlite3's readers (SELECT, PRAGMA ...) answer rows, an array; the other statements do not.
    if (event.success && !event.queryRunner.isTransactionActive && !Array.isArray(event.rawResults)) {
      this.checkpointer.noteCommit();
    }
  }
}

/**
 * A DataSource on a SQLite file whose WAL is checkpointed by a {@link WalCheckpointer} (on a thread,
 * off the event loop) from `initialize()` to `destroy()`, instead of inside the COMMITs of its
 * connection, and kept open meanwhile for the group commit's fsyncs (`WalDurability.holdWalOpen`: the
 * connection, open as long, keeps the WAL from being deleted). An in-memory database has no WAL and no
 * checkpointer.
 */
export class CheckpointedSqliteDataSource extends DataSource {
  private checkpointer: WalCheckpointer | undefined;
  private releaseWal: (() => Promise<void>) | undefined;

  constructor(
    options: DataSourceOptions & { type: 'better-sqlite3' },
    private readonly checkpointerOptions: WalCheckpointerOptions,
  ) {
    super(options);
  }

  /** The running checkpointer (undefined before `initialize()`, after `destroy()`, or in memory). */
  get walCheckpointer(): WalCheckpointer | undefined {
    return this.checkpointer;
  }

  override async initialize(): Promise<this> {
    await super.initialize();
    const file = databaseFileOf(this);
    if (file !== undefined) {
      // TypeORM's better-sqlite3 driver keeps one connection, the one every query of this DataSource uses.
      const connection = (this.driver as unknown as { databaseConnection: PragmaConnection })
        .databaseConnection;
      this.checkpointer = WalCheckpointer.start(file, connection, {
        holdWrites: (work) => runSerializedWrite(this, work),
        ...this.checkpointerOptions,
      });
      this.subscribers.push(new CommitCounter(this.checkpointer));
      this.releaseWal = walDurabilityOf(this)?.holdWalOpen();
    }
    return this;
  }

  override async destroy(): Promise<void> {
    const checkpointer = this.checkpointer;
    const releaseWal = this.releaseWal;
    this.checkpointer = undefined;
    this.releaseWal = undefined;
    // Closed before the connection, whose close may delete the WAL.
    await releaseWal?.();
    await checkpointer?.close();
    await super.destroy();
  }
}
