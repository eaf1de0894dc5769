//! DynamoDB: the tables a call names, on the span.

use opentelemetry_semantic_conventions::attribute as semconv;
use serde_json::Value;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

pub(super) fn record_dynamodb(span: &tracing::Span, body: &[u8]) {
    span.set_attribute(semconv::DB_SYSTEM_NAME, "aws.dynamodb");
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let mut tables: Vec<String> = Vec::new();
    if let Some(table) = value.get("TableName").and_then(Value::as_str) {
        tables.push(table.to_owned());
    }
    if let Some(items) = value.get("RequestItems").and_then(Value::as_object) {
        tables.extend(items.keys().cloned());
    }
    if let Some(items) = value.get("TransactItems").and_then(Value::as_array) {
        for item in items {
            if let Some(table) = item
                .as_object()
                .and_then(|operation| operation.values().next())
                .and_then(|operation| operation.get("TableName"))
                .and_then(Value::as_str)
            {
                tables.push(table.to_owned());
            }
        }
    }
    tables.sort();
    tables.dedup();
    if !tables.is_empty() {
        span.set_attribute(
            semconv::AWS_DYNAMODB_TABLE_NAMES,
            opentelemetry::Value::Array(opentelemetry::Array::String(
                tables.into_iter().map(Into::into).collect(),
            )),
        );
    }
}
