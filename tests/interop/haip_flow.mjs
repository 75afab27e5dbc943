// The HAIP 1.0 flow, driven by @openid4vc/openid4vci and @openid4vc/oauth2 (an independent implementation):
// signed metadata and credentials checked through their `x5c` against the issuer's trust anchor; a wallet
// attestation (made with the library, signed by the wallet provider's certified key) at PAR and token; DPoP
// with server nonces; PKCE and PAR; the credential by scope.
// Usage: node haip_flow.mjs '<openid-credential-offer://...>' CONFIG.json
//   CONFIG.json: {local_url, trust_anchor_pem, provider: {name, x5c, private_jwk}, client_id}
//   The issuer's https URL is reached at local_url, as a TLS proxy would forward it.
// 1. Prints one JSON line {authorization_url} and reads one line from stdin: where the page sent the browser.
// 2. Prints one JSON line: {credentials, token_type, holder_jwk, verified_x5c, signed_metadata}.
import { readFileSync } from 'node:fs'
import { createHash, randomBytes, webcrypto, X509Certificate, verify as verifySignature } from 'node:crypto'
import { createInterface } from 'node:readline'
import {
  clientAuthenticationClientAttestationJwt,
  createClientAttestationJwt,
  decodeJwt,
  jwtSignerFromJwt,
  verifyJwt,
} from '@openid4vc/oauth2'
import { Openid4vciClient } from '@openid4vc/openid4vci'

const { subtle } = webcrypto
const b64url = (bytes) => Buffer.from(bytes).toString('base64url')
const encode = (value) => b64url(Buffer.from(JSON.stringify(value)))
const REDIRECT_URI = 'https://wallet.example/haip-callback'

async function keyPair() {
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  const { kty, crv, x, y } = await subtle.exportKey('jwk', pair.publicKey)
  return { privateKey: pair.privateKey, publicJwk: { kty, crv, x, y } }
}

async function readLine() {
  for await (const line of createInterface({ input: process.stdin })) return line.trim()
  throw new Error('no redirect URL on stdin')
}

// HAIP §4.1, §6.1.1: the chain leads to the trust anchor, which it does not include; the signer is not self-signed.
function chainKey(x5c, anchor) {
  const chain = x5c.map((entry) => new X509Certificate(Buffer.from(entry, 'base64')))
  if (chain.some((certificate) => certificate.fingerprint256 === anchor.fingerprint256)) throw new Error('x5c holds the trust anchor')
  if (chain[0].checkIssued(chain[0])) throw new Error('the signing certificate is self-signed')
  const now = Date.now()
  chain.forEach((certificate, index) => {
    const issuer = chain[index + 1] ?? anchor
    if (!certificate.checkIssued(issuer) || !certificate.verify(issuer.publicKey)) throw new Error('x5c does not chain to the anchor')
    if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) throw new Error('a certificate is not valid now')
  })
  return chain[0].publicKey
}

async function main() {
  const [offerUri, configFile] = process.argv.slice(2)
  if (!offerUri || !configFile) throw new Error('usage: haip_flow.mjs <offer-uri> <config.json>')
  const config = JSON.parse(readFileSync(configFile, 'utf8'))
  const anchor = new X509Certificate(config.trust_anchor_pem)
  const local = new URL(config.local_url)
  const verified = { metadata: false, x5c: 0 }

  // The public https origin, reached where the issuer listens. The library takes signed metadata when it has
  // a verifyJwt callback but sends no Accept header for it; the wallet asks for it (OID4VCI §12.2.2).
  const forward = (input, init = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url)
    const headers = new Headers(init.headers)
    if (url.pathname.startsWith('/.well-known/openid-credential-issuer')) headers.set('Accept', 'application/jwt, application/json;q=0.5')
    if (url.protocol === 'https:' && url.host === new URL(config.public_url).host) {
      url.protocol = local.protocol
      url.host = local.host
    }
    return fetch(url, { ...init, headers })
  }

  const holder = await keyPair()
  const dpopKey = await keyPair()
  const instance = await keyPair() // the wallet instance key, in the attestation's cnf
  const providerKey = await subtle.importKey('jwk', config.provider.private_jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  const byJwk = new Map([holder, dpopKey, instance].map((pair) => [JSON.stringify(pair.publicJwk), pair]))

  const signJwt = async (signer, { header, payload }) => {
    const privateKey = signer.method === 'x5c' ? providerKey : byJwk.get(JSON.stringify(signer.publicJwk))?.privateKey
    if (!privateKey) throw new Error(`no key for signer ${signer.method}`)
    const input = `${encode(header)}.${encode(payload)}`
    const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, Buffer.from(input))
    return { jwt: `${input}.${b64url(new Uint8Array(signature))}`, signerJwk: signer.publicJwk }
  }
  const verifyJwtCallback = async (signer, { compact, header }) => {
    if (signer.method !== 'x5c') return { verified: false }
    const key = chainKey(signer.x5c, anchor)
    const [protectedHeader, payload, signature] = compact.split('.')
    const ok = verifySignature('sha256', Buffer.from(`${protectedHeader}.${payload}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))
    if (ok && header.typ === 'openidvci-issuer-metadata+jwt') verified.metadata = true
    return ok ? { verified: true, signerJwk: key.export({ format: 'jwk' }) } : { verified: false }
  }
  const callbacks = {
    fetch: forward,
    hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    generateRandom: (length) => randomBytes(length),
    signJwt,
    verifyJwt: verifyJwtCallback,
  }
  const clientAttestationJwt = await createClientAttestationJwt({
    issuer: config.provider.name,
    clientId: config.client_id,
    confirmation: { jwk: instance.publicJwk },
    issuedAt: new Date(),
    expiresAt: new Date(Date.now() + 3600 * 1000),
    signer: { method: 'x5c', alg: 'ES256', x5c: config.provider.x5c },
    additionalPayload: { wallet_name: 'oid4vc-ts HAIP wallet' },
    callbacks,
  })
  const client = new Openid4vciClient({
    callbacks: { ...callbacks, clientAuthentication: clientAuthenticationClientAttestationJwt({ clientAttestationJwt, callbacks }) },
  })

  const credentialOffer = await client.resolveCredentialOffer(offerUri)
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer) // signed, checked by x5c
  const credentialConfigurationId = credentialOffer.credential_configuration_ids[0]
  const dpop = { signer: { method: 'jwk', publicJwk: dpopKey.publicJwk, alg: 'ES256' } }
  const { authorizationRequestUrl, pkce, dpop: parDpop } = await client.createAuthorizationRequestUrlFromOffer({
    credentialOffer,
    issuerMetadata,
    clientId: config.client_id,
    redirectUri: REDIRECT_URI,
    dpop,
  })
  process.stdout.write(JSON.stringify({ authorization_url: authorizationRequestUrl }) + '\n')

  const redirected = await readLine()
  const response = client.parseAndVerifyAuthorizationResponseRedirectUrl({
    url: redirected,
    authorizationServerMetadata: issuerMetadata.authorizationServers[0],
  })
  const { accessTokenResponse, dpop: tokenDpop } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    authorizationCode: response.code,
    pkceCodeVerifier: pkce?.codeVerifier,
    redirectUri: REDIRECT_URI,
    dpop: { ...dpop, nonce: parDpop?.nonce },
  })
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId,
    nonce,
    clientId: config.client_id,
    signer: { method: 'jwk', publicJwk: holder.publicJwk, alg: 'ES256' },
  })
  const { credentialResponse } = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId,
    proofs: { jwt: [jwt] },
    dpop: { ...dpop, nonce: tokenDpop?.nonce },
  })
  const credentials = credentialResponse.credentials.map((entry) => entry.credential)
  for (const credential of credentials) {
    const compact = credential.split('~')[0]
    const { header, payload } = decodeJwt({ jwt: compact })
    await verifyJwt({ compact, header, payload, signer: jwtSignerFromJwt({ header, payload }), verifyJwtCallback })
    verified.x5c += 1
  }
  process.stdout.write(
    JSON.stringify({
      credentials,
      token_type: accessTokenResponse.token_type,
      holder_jwk: holder.publicJwk,
      verified_x5c: verified.x5c,
      signed_metadata: verified.metadata,
    }) + '\n',
  )
}

main().catch((error) => {
  process.stderr.write(`${error?.constructor?.name ?? 'Error'}: ${error?.message ?? error}\n`)
  if (error?.errorResponse) process.stderr.write(`${JSON.stringify(error.errorResponse)}\n`)
  if (error?.response) process.stderr.write(`${JSON.stringify(error.response)}\n`)
  if (error?.cause) process.stderr.write(`cause: ${error.cause?.message ?? error.cause}\n`)
  process.exit(1)
})
