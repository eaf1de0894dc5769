"""Sets up and reads AWS resources in moto_server for collector/tests/it/aws.rs.

Usage: python3 aws_moto.py ENDPOINT COMMAND JSON_ARGS; prints JSON.
boto3 comes with moto; the tests use it so as not to compile more aws-sdk crates.
"""

import base64
import json
import sys
import urllib.parse

import boto3

ENDPOINT, COMMAND, ARGS = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
REGION = "us-east-1"


def client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_log_groups():
    logs = client("logs")
    for name in ARGS["names"]:
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName=ARGS["stream"])
    return {"created": len(ARGS["names"])}


def create_log_streams():
    logs = client("logs")
    for name in ARGS["streams"]:
        logs.create_log_stream(logGroupName=ARGS["log_group"], logStreamName=name)
    return {"created": len(ARGS["streams"])}


def delete_log_group():
    client("logs").delete_log_group(logGroupName=ARGS["log_group"])
    return {}


def create_kinesis_stream():
    kinesis = client("kinesis")
    kinesis.create_stream(StreamName=ARGS["name"], ShardCount=1)
    described = kinesis.describe_stream(StreamName=ARGS["name"])
    return {"arn": described["StreamDescription"]["StreamARN"]}


def put_foreign_filter():
    client("logs").put_subscription_filter(
        logGroupName=ARGS["log_group"],
        filterName=ARGS["filter_name"],
        filterPattern="",
        destinationArn=ARGS["destination_arn"],
        roleArn=ARGS.get("role_arn", "arn:aws:iam::123456789012:role/other"),
    )
    return {}


def filters():
    out = {}
    logs = client("logs")
    for name in ARGS["names"]:
        found = logs.describe_subscription_filters(logGroupName=name)["subscriptionFilters"]
        out[name] = sorted(f["filterName"] for f in found)
    return out


def put_log_events():
    logs = client("logs")
    for item in ARGS["puts"]:
        logs.put_log_events(
            logGroupName=item["log_group"],
            logStreamName=item["log_stream"],
            logEvents=item["events"],
        )
    return {}


def read_kinesis_event():
    """Every record in the stream, as the Lambda event source mapping delivers them."""
    kinesis = client("kinesis")
    description = kinesis.describe_stream(StreamName=ARGS["name"])["StreamDescription"]
    arn = description["StreamARN"]
    records = []
    for shard in description["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=ARGS["name"], ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            for record in page["Records"]:
                records.append(
                    {
                        "kinesis": {
                            "kinesisSchemaVersion": "1.0",
                            "partitionKey": record["PartitionKey"],
                            "sequenceNumber": record["SequenceNumber"],
                            "data": base64.b64encode(record["Data"]).decode(),
                            "approximateArrivalTimestamp": record[
                                "ApproximateArrivalTimestamp"
                            ].timestamp(),
                        },
                        "eventSource": "aws:kinesis",
                        "eventVersion": "1.0",
                        "eventID": f"{shard['ShardId']}:{record['SequenceNumber']}",
                        "eventName": "aws:kinesis:record",
                        "invokeIdentityArn": "arn:aws:iam::123456789012:role/tracelake-collector",
                        "awsRegion": REGION,
                        "eventSourceARN": arn,
                    }
                )
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return {"Records": records}


def create_firehose_to_s3():
    s3 = client("s3")
    s3.create_bucket(Bucket=ARGS["bucket"])
    firehose = client("firehose")
    created = firehose.create_delivery_stream(
        DeliveryStreamName=ARGS["name"],
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose-to-s3",
            "BucketARN": f"arn:aws:s3:::{ARGS['bucket']}",
            "Prefix": ARGS["prefix"],
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 300},
            "CompressionFormat": "UNCOMPRESSED",
        },
    )
    return {"arn": created["DeliveryStreamARN"]}


def put_objects():
    """Puts each file at its key, as Firehose writes its objects."""
    s3 = client("s3")
    for item in ARGS["objects"]:
        with open(item["file"], "rb") as body:
            s3.put_object(Bucket=ARGS["bucket"], Key=item["key"], Body=body.read())
    return {"put": len(ARGS["objects"])}


def s3_event():
    """An S3 event naming every object under the prefix, as S3 notifies Lambda."""
    s3 = client("s3")
    listed = s3.list_objects_v2(Bucket=ARGS["bucket"], Prefix=ARGS["prefix"])
    records = []
    for item in listed.get("Contents", []):
        records.append(
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-11-29T10:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:firehose"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "tracelake",
                    "bucket": {
                        "name": ARGS["bucket"],
                        "ownerIdentity": {"principalId": "A1"},
                        "arn": f"arn:aws:s3:::{ARGS['bucket']}",
                    },
                    "object": {
                        # S3 events encode keys like form values.
                        "key": urllib.parse.quote_plus(item["Key"], safe="/"),
                        "size": item["Size"],
                        "eTag": item["ETag"].strip('"'),
                        "sequencer": "0055AED6DCD90281E5",
                    },
                },
            }
        )
    return {"Records": records}


print(json.dumps(globals()[COMMAND]()))
