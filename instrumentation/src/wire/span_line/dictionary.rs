//! The preset deflate dictionary of compact lines (version `tracelake-2`).
//!
//! Deflate can refer back into a preset dictionary from the first byte of a
//! stream, so the attribute keys and values that nearly every line repeats cost
//! a few bits each instead of their full text. The dictionary is part of the
//! line format: changing one byte makes every line written before unreadable,
//! so a change needs a new format version (a test pins its Adler-32).
//! The most frequent strings come last (deflate codes shorter distances in
//! fewer bits).

/// The dictionary of format `tracelake-2`. Frozen: see the module docs.
pub(crate) const DICTIONARY_V2: &[u8] = concat!(
    "exception.stacktraceexception.escapedexception",
    "url.fullurl.pathurl.schemeserver.addressserver.portuser_agent.original",
    "http.request.methodGETPOSTPUTDELETEhttp.routehttp.response.status_code",
    "error.typeexception.typeexception.message",
    "faas.invoked_namefaas.invoked_providerfaas.invoked_region",
    "aws.s3.bucketaws.s3.keyaws.dynamodb.table_namesdb.system.nameaws.dynamodb",
    "db.operation.nameGetItemPutItemQueryUpdateItemBatchGetItemdb.systemdynamodb",
    "messaging.operation.namemessaging.message.idmessaging.batch.message_count",
    "messaging.systemaws_sqsaws_snsmessaging.destination.name",
    "rpc.systemaws-apirpc.servicerpc.methodaws.request_id",
    "tracelake.truncatedtracelake.linkmessage sender",
    "faas.triggerhttppubsubdatasourcetimerother",
    "cloud.resource_idaws.lambda.invoked_arnarn:aws:lambda:eu-west-1:us-east-1::function:",
    "faas.invocation_idfaas.coldstartcloud.account.id",
    "deployment.environment.nameproductionservice.versionservice.namespace",
    "cloud.regionus-east-1eu-west-1faas.max_memoryservice.name",
    "cloud.provideraws",
    "cloud.platformaws_lambdafaas.namefaas.version$LATESTfaas.instance",
    "tracelake-instrumentation",
)
.as_bytes();
