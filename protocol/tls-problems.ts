/** What Node's TLS error codes mean, for the hints the agent and `tm` give; one list for both. */

export type TlsProblem = 'untrusted' | 'out_of_date' | 'wrong_host' | 'not_tls';

const PROBLEMS: Record<string, TlsProblem> = {
  // OpenSSL's verdicts that mean "nothing this process trusts signed the server's certificate".
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted',
  CERT_UNTRUSTED: 'untrusted',
  CERT_SIGNATURE_FAILURE: 'untrusted',
  CERT_HAS_EXPIRED: 'out_of_date',
  CERT_NOT_YET_VALID: 'out_of_date',
  ERR_TLS_CERT_ALTNAME_INVALID: 'wrong_host',
  // TLS spoken to a port that answers plain HTTP.
  ERR_SSL_WRONG_VERSION_NUMBER: 'not_tls',
  ERR_SSL_HTTP_REQUEST: 'not_tls',
  EPROTO: 'not_tls',
};

export function tlsProblem(code: string | undefined): TlsProblem | undefined {
  return code === undefined ? undefined : PROBLEMS[code];
}
