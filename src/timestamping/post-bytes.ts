import http from 'node:http';
import https from 'node:https';

/** Bounds of one POST exchange. */
export interface PostBytesOptions {
  contentType: string;
  accept: string;
  /** The whole exchange (connection, request, response body) must end within this. */
  timeoutMs: number;
  /** Longer response bodies are refused. */
  maxResponseBytes: number;
}

/** An HTTP answer. */
export interface PostBytesResult {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

/**
 * POSTs `body` to an http(s) URL and reads the whole answer, within a deadline and a size cap.
 * @throws Error saying what went wrong (no answer in time, connection failure, answer too large)
 */
export function postBytes(url: URL, body: Buffer, options: PostBytesOptions): Promise<PostBytesResult> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (error: Error | undefined, result?: PostBytesResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) {
        request.destroy();
        reject(error);
      } else resolve(result as PostBytesResult);
    };
    const request = transport.request(url, {
      method: 'POST',
      headers: {
        'Content-Type': options.contentType,
        Accept: options.accept,
        'Content-Length': body.length,
      },
    });
    const deadline = setTimeout(
      () => finish(new Error(`no complete answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    request.on('error', (error) => finish(new Error(`the request failed: ${error.message}`)));
    request.on('response', (response) => {
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxResponseBytes) {
        finish(new Error(`the answer is larger than ${options.maxResponseBytes} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > options.maxResponseBytes)
          finish(new Error(`the answer is larger than ${options.maxResponseBytes} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', (error) => finish(new Error(`the answer broke off: ${error.message}`)));
      response.on('aborted', () => finish(new Error('the answer broke off')));
      response.on('end', () =>
        finish(undefined, {
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'],
          body: Buffer.concat(chunks),
        }),
      );
    });
    request.end(body);
  });
}
