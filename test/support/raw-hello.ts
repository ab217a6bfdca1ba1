/** The `hello` a raw test agent sends: signed for the challenge's nonce and its address. */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { PROTOCOL_VERSION, helloMessage } from '../../protocol/index.ts';

export function signedHello(
  nonce: string,
  address: string,
  key: KeyObject,
  options: { acceptsCommands: boolean },
): string {
  return JSON.stringify({
    type: 'hello',
    protocolVersion: PROTOCOL_VERSION,
    address,
    slots: 1,
    acceptsCommands: options.acceptsCommands,
    running: [],
    publicKey: createPublicKey(key).export({ format: 'jwk' }).x,
    signature: sign(null, Buffer.from(helloMessage(nonce, address)), key).toString('base64url'),
  });
}
