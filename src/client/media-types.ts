import path from 'node:path';

/**
 * The media types the e-Box accepts (the `types:MIME` enumeration of the contract), by file extension.
 * A file with another extension is sent without MIME (the schema allows it) unless one is given.
 */
const MEDIA_TYPES_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.csv': 'text/csv',
  '.htm': 'text/html',
  '.html': 'text/html',
  '.txt': 'text/plain',
  '.xml': 'text/xml',
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.ods': 'application/vnd.oasis.opendocument.spreadsheet',
  '.odp': 'application/vnd.oasis.opendocument.presentation',
  '.odg': 'application/vnd.oasis.opendocument.graphics',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.ppt': 'application/vnd.ms-powerpoint',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** Every media type the contract allows for a document (`types:MIME`). */
export const ACCEPTED_MEDIA_TYPES: readonly string[] = [...new Set(Object.values(MEDIA_TYPES_BY_EXTENSION))];

/** The accepted media type a file name's extension stands for, or undefined. */
export function mediaTypeOfFileName(fileName: string): string | undefined {
  return MEDIA_TYPES_BY_EXTENSION[path.extname(fileName).toLowerCase()];
}
