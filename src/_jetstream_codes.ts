/**
 * JetStream API error codes that `@nats-io/jetstream` has no constant for.
 *
 * The codes nats.js names (stream not found, consumer not found, no message found) are used
 * from its `JetStreamApiCodes`; the ones below are the server's own codes, named after the
 * entries of nats-server's `errors.json`, kept here so that no other module types in a
 * number.
 *
 * @module
 */

/** `JSStreamNameExistErr`: a stream with this name exists with a different config. */
export const STREAM_NAME_IN_USE = 10058;
/** `JSStreamMessageExceedsMaximumErr`: the message is larger than the stream's `max_msg_size`. */
export const MESSAGE_OVER_STREAM_MAX = 10054;
/** `JSStreamHeaderExceedsMaximumErr`: the message's headers are over the server's 64 KiB. */
export const HEADERS_OVER_MAX = 10097;
/** `JSStreamSealedErr`: the stream is sealed and takes no more messages. */
export const STREAM_SEALED = 10109;
/** `JSClusterNoPeersErr`: no peers can hold the stream yet (a cluster coming up). */
export const NO_PEERS = 10005;
