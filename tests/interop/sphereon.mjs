// The Pre-Authorized Code flow, driven by Sphereon's @sphereon/oid4vci-client (a draft 15 wallet library:
// it sends the singular `proof` object, which the issuer reads as a one-element `proofs`).
// Usage: node sphereon.mjs '<openid-credential-offer://...>' [--tx-code CODE]
// Prints one JSON line: {credential_configuration_id, format, credentials, notification_id, holder_jwk}.
import { webcrypto } from 'node:crypto'
import { OpenID4VCIClient } from '@sphereon/oid4vci-client'

const { subtle } = webcrypto
const b64url = (bytes) => Buffer.from(bytes).toString('base64url')
const encode = (value) => b64url(Buffer.from(JSON.stringify(value)))

async function main() {
  const [offerUri, ...rest] = process.argv.slice(2)
  const txIndex = rest.indexOf('--tx-code')
  const txCode = txIndex >= 0 ? rest[txIndex + 1] : undefined
  if (!offerUri) throw new Error('usage: sphereon.mjs <offer-uri> [--tx-code CODE]')

  const keyPair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  const { kty, crv, x, y } = await subtle.exportKey('jwk', keyPair.publicKey)
  const holderJwk = { kty, crv, x, y }
  const signCallback = async ({ header, payload }) => {
    const input = `${encode(header)}.${encode(payload)}`
    const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keyPair.privateKey, Buffer.from(input))
    return `${input}.${b64url(new Uint8Array(signature))}`
  }

  const client = await OpenID4VCIClient.fromURI({ uri: offerUri, alg: 'ES256', retrieveServerMetadata: true })
  await client.acquireAccessToken(txCode ? { pin: txCode } : {})
  const offer = client.credentialOffer.credential_offer
  const [credentialConfigurationId] = offer.credential_configuration_ids
  const configuration = client.endpointMetadata.credentialIssuerMetadata.credential_configurations_supported[credentialConfigurationId]
  const response = await client.acquireCredentials({
    credentialTypes: credentialConfigurationId,
    format: configuration.format,
    alg: 'ES256',
    jwk: holderJwk,
    proofCallbacks: { signCallback },
  })
  const credentials = response.credentials?.map((entry) => entry.credential) ?? [response.credential]
  process.stdout.write(
    JSON.stringify({
      credential_configuration_id: credentialConfigurationId,
      format: configuration.format,
      credentials,
      notification_id: response.notification_id ?? null,
      holder_jwk: holderJwk,
    }) + '\n',
  )
}

main().catch((error) => {
  process.stderr.write(`${error?.constructor?.name ?? 'Error'}: ${error?.message ?? error}\n`)
  if (error?.stack) process.stderr.write(`${error.stack}\n`)
  process.exit(1)
})
