// The Authorization Code flow, driven by @openid4vc/openid4vci (an independent implementation).
// Usage: node code_flow.mjs '<openid-credential-offer://...>'
// 1. Prints one JSON line {authorization_url} and reads one line from stdin: the URL the issuer's
//    page redirected the browser to (the test plays the browser and the desk).
// 2. Exchanges the code with PKCE and DPoP, gets the credential and prints one JSON line:
//    {credential_configuration_id, format, credentials, notification_id, holder_jwk, token_type}.
import { webcrypto, createHash, randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { clientAuthenticationNone, setGlobalConfig } from '@openid4vc/oauth2'
import { Openid4vciClient } from '@openid4vc/openid4vci'

const { subtle } = webcrypto
const b64url = (bytes) => Buffer.from(bytes).toString('base64url')
const encode = (value) => b64url(Buffer.from(JSON.stringify(value)))
const CLIENT_ID = 'node-interop-wallet'
const REDIRECT_URI = 'https://wallet.example/node-callback'

async function keyPair() {
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  const { kty, crv, x, y } = await subtle.exportKey('jwk', pair.publicKey)
  return { privateKey: pair.privateKey, publicJwk: { kty, crv, x, y } }
}

async function readLine() {
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) return line.trim()
  throw new Error('no redirect URL on stdin')
}

async function main() {
  const [offerUri] = process.argv.slice(2)
  if (!offerUri) throw new Error('usage: code_flow.mjs <offer-uri>')
  setGlobalConfig({ allowInsecureUrls: true }) // the tests serve the issuer over http on 127.0.0.1

  const holder = await keyPair()
  const dpopKey = await keyPair()
  const keys = new Map([
    [JSON.stringify(holder.publicJwk), holder],
    [JSON.stringify(dpopKey.publicJwk), dpopKey],
  ])
  const client = new Openid4vciClient({
    callbacks: {
      fetch,
      hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
      generateRandom: (length) => randomBytes(length),
      clientAuthentication: clientAuthenticationNone({ clientId: CLIENT_ID }),
      signJwt: async (signer, { header, payload }) => {
        const { privateKey, publicJwk } = keys.get(JSON.stringify(signer.publicJwk)) ?? holder
        const input = `${encode(header)}.${encode(payload)}`
        const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, Buffer.from(input))
        return { jwt: `${input}.${b64url(new Uint8Array(signature))}`, signerJwk: publicJwk }
      },
    },
  })

  const credentialOffer = await client.resolveCredentialOffer(offerUri)
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer)
  const credentialConfigurationId = credentialOffer.credential_configuration_ids[0]
  const dpop = { signer: { method: 'jwk', publicJwk: dpopKey.publicJwk, alg: 'ES256' } }
  const { authorizationRequestUrl, pkce } = await client.createAuthorizationRequestUrlFromOffer({
    credentialOffer,
    issuerMetadata,
    clientId: CLIENT_ID,
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
    dpop,
  })
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId,
    nonce,
    clientId: CLIENT_ID,
    signer: { method: 'jwk', publicJwk: holder.publicJwk, alg: 'ES256' },
  })
  const { credentialResponse } = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId,
    proofs: { jwt: [jwt] },
    dpop: tokenDpop ?? dpop,
  })
  const configuration = issuerMetadata.credentialIssuer.credential_configurations_supported[credentialConfigurationId]
  process.stdout.write(
    JSON.stringify({
      credential_configuration_id: credentialConfigurationId,
      format: configuration.format,
      credentials: credentialResponse.credentials.map((entry) => entry.credential),
      notification_id: credentialResponse.notification_id ?? null,
      holder_jwk: holder.publicJwk,
      token_type: accessTokenResponse.token_type,
    }) + '\n',
  )
}

main().catch((error) => {
  process.stderr.write(`${error?.constructor?.name ?? 'Error'}: ${error?.message ?? error}\n`)
  if (error?.errorResponse) process.stderr.write(`${JSON.stringify(error.errorResponse)}\n`)
  if (error?.response) process.stderr.write(`${JSON.stringify(error.response)}\n`)
  process.exit(1)
})
