/** Who a message is published to, as the e-Box Message Registry writes it. */
export type EboxParty =
  { eboxType: 'citizen'; ssin: string } | { eboxType: 'enterprise'; enterpriseNumber: string };

/** One attachment as the simulator keeps it: its facts and hash, never its bytes. */
export interface SimulatedAttachment {
  httpPartName: string;
  isMainContent: boolean;
  isAttachmentSigned: boolean;
  attachmentTitle?: string;
  contentType: string;
  size: number;
  /** SHA-256 of the part's bytes, lowercase hex. */
  sha256: string;
}

/** A published message in the simulator's store. */
export interface SimulatedMessage {
  messageId: string;
  idempotencyKey: string;
  /** The recipient's identifier (INSS or CBE): the e-Box the message sits in. */
  eboxId: string;
  sender: { eboxType: 'enterprise'; enterpriseNumber: string };
  recipient: EboxParty;
  subject: { nl?: string; fr?: string; de?: string };
  messageTypeId: string;
  senderApplicationId: string;
  registeredMail: boolean;
  /** ISO 8601 instants. */
  receiptDate: string;
  expirationDate: string;
  readStatus: 'READ' | 'UNREAD';
  readDate?: string;
  visible: boolean;
  /** `NO_DIGITAL_USER` when the recipient never opened an e-Box. */
  code?: 'NO_DIGITAL_USER';
  attachments: SimulatedAttachment[];
}

/** A recipient's e-Box profile. */
export interface EboxProfile {
  exists: boolean;
  activated: boolean;
  preferredChannel: 'EBOX' | 'PAPER' | 'EMAIL';
  lastConnectionDate?: string;
}
