// The Pre-Authorized Code flow, driven by @openid4vc/openid4vci (an independent implementation).
// Usage: node wallet.mjs '<openid-credential-offer://...>' [--tx-code CODE]
// Prints one JSON line: {credential_configuration_id, format, credentials, notification_id, holder_jwk}.
// `receive` is the same flow for other scripts (mdoc.mjs), with the holder's key pair given.
import { webcrypto, createHash, randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { clientAuthenticationAnonymous, setGlobalConfig } from '@openid4vc/oauth2'
import { Openid4vciClient } from '@openid4vc/openid4vci'

const { subtle } = webcrypto
const b64url = (bytes) => Buffer.from(bytes).toString('base64url')
const encode = (value) => b64url(Buffer.from(JSON.stringify(value)))

export async function newKeyPair() {
  return subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
}

export async function receive(offerUri, { txCode, keyPair }) {
  // The tests serve the issuer over http on 127.0.0.1; production issuers are https only.
  setGlobalConfig({ allowInsecureUrls: true })

  const { kty, crv, x, y } = await subtle.exportKey('jwk', keyPair.publicKey)
  const holderJwk = { kty, crv, x, y }

  const client = new Openid4vciClient({
    callbacks: {
      fetch,
      hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
      generateRandom: (length) => randomBytes(length),
      clientAuthentication: clientAuthenticationAnonymous(),
      signJwt: async (signer, { header, payload }) => {
        const input = `${encode(header)}.${encode(payload)}`
        const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keyPair.privateKey, Buffer.from(input))
        return { jwt: `${input}.${b64url(new Uint8Array(signature))}`, signerJwk: holderJwk }
      },
    },
  })

  const credentialOffer = await client.resolveCredentialOffer(offerUri)
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer)
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    txCode,
  })
  const credentialConfigurationId = credentialOffer.credential_configuration_ids[0]
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId,
    nonce,
    signer: { method: 'jwk', publicJwk: holderJwk, alg: 'ES256' },
  })
  const { credentialResponse } = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId,
    proofs: { jwt: [jwt] },
  })
  if (credentialResponse.notification_id) {
    await client.sendNotification({
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      notification: { notificationId: credentialResponse.notification_id, event: 'credential_accepted' },
    })
  }
  const configuration = issuerMetadata.credentialIssuer.credential_configurations_supported[credentialConfigurationId]
  return {
    credential_configuration_id: credentialConfigurationId,
    format: configuration.format,
    credentials: credentialResponse.credentials.map((entry) => entry.credential),
    notification_id: credentialResponse.notification_id ?? null,
    holder_jwk: holderJwk,
  }
}

export function reportFailure(error) {
  process.stderr.write(`${error?.constructor?.name ?? 'Error'}: ${error?.message ?? error}\n`)
  if (error?.errorResponse) process.stderr.write(`${JSON.stringify(error.errorResponse)}\n`)
  process.exit(1)
}

async function main() {
  const [offerUri, ...rest] = process.argv.slice(2)
  const txIndex = rest.indexOf('--tx-code')
  const txCode = txIndex >= 0 ? rest[txIndex + 1] : undefined
  if (!offerUri) throw new Error('usage: wallet.mjs <offer-uri> [--tx-code CODE]')
  const received = await receive(offerUri, { txCode, keyPair: await newKeyPair() })
  process.stdout.write(JSON.stringify(received) + '\n')
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main().catch(reportFailure)
