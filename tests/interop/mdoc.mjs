// An ISO mdoc received by @openid4vc/openid4vci (wallet.mjs), then checked by an mdoc library of the ecosystem,
// @owf/mdoc (formerly @animo-id/mdoc, the one Credo uses): the IssuerSigned verifies against the trust anchor,
// the holder presents two of its elements in a device-signed DeviceResponse (ISO/IEC 18013-5 §8.3.2.1.2.2,
// OID4VP session transcript), and the library's verifier accepts that presentation; with another trust anchor
// it refuses the same mdoc.
// Usage: node mdoc.mjs '<openid-credential-offer://...>' <trust-anchor.pem> <other-anchor.pem>
// Prints one JSON line: {received, issuer_signed, presented, device_signed, other_anchor_error}.
import { X509Certificate, createHash, webcrypto } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import {
  CoseKey,
  DeviceRequest,
  DeviceResponse,
  DocRequest,
  Holder,
  IssuerSigned,
  ItemsRequest,
  SessionTranscript,
  Verifier,
} from '@owf/mdoc'
import { newKeyPair, receive, reportFailure } from './wallet.mjs'

const { subtle } = webcrypto
const P256 = { name: 'ECDSA', namedCurve: 'P-256' }
const DOCTYPE = 'org.frontdesk.membership.1'
const REQUESTED = { [DOCTYPE]: { given_name: false, member_id: false } }
const pemToDer = (pem) => new Uint8Array(new X509Certificate(pem).raw)
const unsupported = () => {
  throw new Error('device MAC is not used here')
}

function publicJwk(jwk) {
  const { kty, crv, x, y } = jwk
  return { kty, crv, x, y }
}

// The crypto and X.509 callbacks the library leaves to its host (Credo gives its own), on node:crypto alone.
const context = {
  crypto: {
    random: (length) => webcrypto.getRandomValues(new Uint8Array(length)),
    digest: async ({ digestAlgorithm, bytes }) => new Uint8Array(await subtle.digest(digestAlgorithm, bytes)),
    calculateEphemeralMacKey: unsupported,
  },
  cose: {
    sign1: {
      sign: async ({ toBeSigned, key }) => {
        const privateKey = await subtle.importKey('jwk', { ...key.jwk, key_ops: undefined }, P256, false, ['sign'])
        return new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, toBeSigned))
      },
      verify: async ({ key, sign1 }) => {
        const publicKey = await subtle.importKey('jwk', publicJwk(key.jwk), P256, false, ['verify'])
        return subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, publicKey, sign1.signature, sign1.toBeSigned)
      },
    },
    mac0: { sign: unsupported, verify: unsupported },
  },
  x509: {
    getIssuerNameField: ({ certificate, field }) =>
      new X509Certificate(certificate).issuer
        .split('\n')
        .filter((line) => line.startsWith(`${field}=`))
        .map((line) => line.slice(field.length + 1)),
    getPublicKey: async ({ certificate }) =>
      CoseKey.fromJwk(new X509Certificate(certificate).publicKey.export({ format: 'jwk' })),
    verifyCertificateChain: ({ trustedCertificates, x5chain, now }) => {
      const at = now ?? new Date()
      const chain = x5chain.map((der) => new X509Certificate(der))
      const anchors = trustedCertificates.map((der) => new X509Certificate(der))
      chain.forEach((certificate, index) => {
        if (at < new Date(certificate.validFrom) || at > new Date(certificate.validTo)) {
          throw new Error(`certificate ${index} of x5chain is not valid now`)
        }
        const above = chain[index + 1]
        if (above && !(certificate.checkIssued(above) && certificate.verify(above.publicKey))) {
          throw new Error(`certificate ${index} of x5chain is not issued by the next one`)
        }
      })
      const top = chain[chain.length - 1]
      const anchor = anchors.find((candidate) => top.checkIssued(candidate) && top.verify(candidate.publicKey))
      if (!anchor) throw new Error('x5chain does not lead to a trusted certificate')
    },
    getCertificateData: ({ certificate }) => {
      const parsed = new X509Certificate(certificate)
      return {
        issuerName: parsed.issuer,
        subjectName: parsed.subject,
        serialNumber: parsed.serialNumber,
        thumbprint: createHash('sha256').update(parsed.raw).digest('hex'),
        notBefore: new Date(parsed.validFrom),
        notAfter: new Date(parsed.validTo),
        pem: parsed.toString(),
      }
    },
  },
}

async function verifyAndPresent(credential, trustedCertificates, holderJwk) {
  const issuerSigned = IssuerSigned.fromEncodedForOid4Vci(credential)
  await Holder.verifyIssuerSigned({ issuerSigned, trustedCertificates }, context)
  const deviceRequest = DeviceRequest.create({
    docRequests: [DocRequest.create({ itemsRequest: ItemsRequest.create({ docType: DOCTYPE, namespaces: REQUESTED }) })],
  })
  const sessionTranscript = await SessionTranscript.forOid4Vp(
    { clientId: 'x509_hash:verifier.example', responseUri: 'https://verifier.example/response', nonce: 'n-0S6_WzA2Mj' },
    context,
  )
  const deviceResponse = await Holder.createDeviceResponseForDeviceRequest(
    {
      deviceRequest,
      issuerSigned: [issuerSigned],
      sessionTranscript,
      signature: { signingKey: CoseKey.fromJwk({ ...holderJwk, alg: 'ES256' }) },
    },
    context,
  )
  const presented = DeviceResponse.fromEncodedForOid4Vp(deviceResponse.encodedForOid4Vp)
  await Verifier.verifyDeviceResponse(
    { deviceRequest, deviceResponse: presented, sessionTranscript, trustedCertificates },
    context,
  )
  const [document] = presented.documents
  return {
    issuer_signed: issuerSigned.getPrettyClaims(DOCTYPE),
    presented: document.issuerSigned.getPrettyClaims(DOCTYPE),
    device_signed: Boolean(document.deviceSigned.deviceAuth.deviceSignature),
  }
}

async function main() {
  const [offerUri, anchorPath, otherAnchorPath] = process.argv.slice(2)
  if (!otherAnchorPath) throw new Error('usage: mdoc.mjs <offer-uri> <trust-anchor.pem> <other-anchor.pem>')
  const keyPair = await newKeyPair()
  const received = await receive(offerUri, { keyPair })
  const [credential] = received.credentials
  const holderJwk = await subtle.exportKey('jwk', keyPair.privateKey)
  const anchor = pemToDer(await readFile(anchorPath, 'utf8'))
  const result = await verifyAndPresent(credential, [anchor], holderJwk)
  const otherAnchor = pemToDer(await readFile(otherAnchorPath, 'utf8'))
  const refused = await Holder.verifyIssuerSigned({ issuerSigned: credential, trustedCertificates: [otherAnchor] }, context)
    .then(() => null)
    .catch((error) => error.message)
  process.stdout.write(JSON.stringify({ received, ...result, other_anchor_error: refused }) + '\n')
}

main().catch(reportFailure)
