/**
 * Z85 (ZeroMQ RFC 32) encoding of binary keys, to compare the 32-byte client keys that
 * ZAP hands over with the 40-character keys operators write down. zeromq.js exports key
 * generation but not the codec.
 */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** Encodes bytes whose length is a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError("Z85 needs a multiple of 4 bytes");
  let out = "";
  for (let offset = 0; offset < bytes.length; offset += 4) {
    let value = ((bytes[offset]! << 24) >>> 0) + (bytes[offset + 1]! << 16) + (bytes[offset + 2]! << 8) + bytes[offset + 3]!;
    const chunk: string[] = [];
    for (let i = 0; i < 5; i++) {
      chunk.unshift(ALPHABET[value % 85]!);
      value = Math.floor(value / 85);
    }
    out += chunk.join("");
  }
  return out;
}
