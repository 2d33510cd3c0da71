/**
 * The bytes every peer serves, so that the four rows of the table move the same
 * payload: GET answers this 100-byte JSON, POST sends it and gets it echoed back.
 */

/** Path every peer serves; it is the gateway's route for the `echo` service. */
export const ECHO_PATH = "/v1/echo";

function padTo(bytes: number): string {
  const head = '{"service":"echo","bench":"zmq-gateway","pad":"';
  const tail = '"}';
  return head + "x".repeat(bytes - head.length - tail.length) + tail;
}

/** Exactly 100 bytes of ASCII JSON: the GET reply and the POST body. */
export const FIXED_JSON = padTo(100);

/** `FIXED_JSON` as a Buffer, for servers that write bytes. */
export const FIXED_JSON_BYTES = Buffer.from(FIXED_JSON);
