// Package awsproto is ecsd's wire layer: it turns HTTP requests from AWS
// clients into aws-sdk-go-v2 input values and aws-sdk-go-v2 output values
// back into the bytes those clients expect.
//
// Vocabulary:
//   - JSON 1.1: the AWS protocol ECS, CodeDeploy and Application Auto Scaling
//     speak. The operation is named by the X-Amz-Target header; the body is a
//     JSON object whose member names are the API model's.
//   - Members: how a JSON service spells its member names given the SDK's
//     field names: LowerFirst ("serviceName", ECS) or AsField
//     ("ServiceNamespace", Application Auto Scaling).
//   - Output encoding is done by the SDK's own schema-driven serializer
//     (EncodeJSON), so member names, enums and epoch-second timestamps are
//     exactly what the SDK's clients read back.
//   - Input decoding (DecodeJSON) is reflective over the SDK input structs,
//     because the SDK only ships serializers for inputs; tests round-trip
//     fully populated inputs through the SDK serializer to prove the two agree.
//   - AWS Query: the protocol ELBv2 speaks. The body is form-encoded
//     (Action=...&Version=2015-12-01&Names.member.1=...); DecodeQuery fills
//     the SDK input struct reflectively (lists as .member.N, nested structs
//     by member name), and EncodeQueryResponse writes the output struct as
//     <ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>
//     with lists as <member> elements and ISO 8601 timestamps.
//   - Error is an AWS error shape: its type name (__type, X-Amzn-ErrorType),
//     message and HTTP status; for Query services, the XML <ErrorResponse>
//     (WriteQueryError). Only this package turns errors into bytes.
//   - Credential: what the SigV4 Authorization header says about the caller
//     (access key, date, region, service). VerifySigV4 checks the header's
//     form, date and region, and with the caller's secret its signature
//     (re-signing the request with the SDK's own signer); its errors are
//     AWS's (MissingAuthenticationTokenException, InvalidSignatureException,
//     ...; the Query protocol's names, such as SignatureDoesNotMatch, come
//     from EncodeQueryError).
package awsproto
