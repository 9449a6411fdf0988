import type { PayloadElement } from '../xml/payload-element';

/** A `SignedFile`'s content travels as an attachment part; the payload holds its `cid:`. */
export interface OutgoingAttachment {
  contentId: string;
  contentType: string;
  content: Buffer;
}

/** A rendered response: the Body payload and the parts it references. */
export interface RenderedResponse {
  payload: PayloadElement;
  attachments: OutgoingAttachment[];
}
