import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { ItemStatus } from '../../domain/model';
import { isoTimeTransformer, TIME_COLUMN_LENGTH } from '../time-column';
import { RegisteredMailItemEntity } from './registered-mail-item.entity';

/**
 * What happened to an item and when: one row per event, never updated. The first row of every item is
 * the `ACCEPTED` event with status `PENDING`.
 */
@Entity({ name: 'item_status_history' })
@Index('IDX_item_status_history_ticket', ['ticket'])
export class ItemStatusHistoryEntity {
  @PrimaryGeneratedColumn('increment', {
    name: 'id',
    type: 'integer',
    primaryKeyConstraintName: 'PK_item_status_history',
  })
  id!: number;

  @Column({ name: 'ticket', type: 'varchar', length: 13 })
  @ForeignKey(() => RegisteredMailItemEntity, 'ticket', { name: 'FK_item_status_history_item' })
  ticket!: string;

  /** The item's status after the event. */
  @Column({ name: 'status', type: 'varchar', length: 7 })
  status!: ItemStatus;

  /** What happened, e.g. `ACCEPTED`. */
  @Column({ name: 'event', type: 'varchar', length: 32 })
  event!: string;

  @Column({
    name: 'occurred_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
  })
  occurredAt!: Date;

  /** Free text for operators (never document content, never an unmasked INSS). */
  @Column({ name: 'detail', type: 'text', nullable: true })
  detail!: string | null;
}
