import pytest

from labelgraph_provision import ProvisionSettings


def test_defaults_name_the_resources_the_services_expect() -> None:
    settings = ProvisionSettings.from_env({})

    assert settings == ProvisionSettings()
    assert settings.image_dlq_name == "security-alarms-uploads-dlq"
    assert settings.label_dlq_topic == "image-labels.dlq"
    assert (settings.label_topic_partitions, settings.label_dlq_topic_partitions) == (6, 3)
    assert settings.image_queue_max_receives == 5
    assert settings.kafka.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.aws_region == "us-east-1"


def test_dead_letter_names_follow_renamed_sources() -> None:
    settings = ProvisionSettings.from_env(
        {"IMAGE_QUEUE_NAME": "uploads", "LABEL_TOPIC": "labels", "AWS_DEFAULT_REGION": ""}
    )

    assert settings.image_dlq_name == "uploads-dlq"
    assert settings.label_dlq_topic == "labels.dlq"
    assert settings.aws_region == "us-east-1"


def test_numbers_come_from_the_environment() -> None:
    settings = ProvisionSettings.from_env(
        {
            "IMAGE_QUEUE_MAX_RECEIVES": "3",
            "LABEL_TOPIC_PARTITIONS": "12",
            "KAFKA_REPLICATION_FACTOR": "3",
        }
    )

    assert settings.image_queue_max_receives == 3
    assert settings.label_topic_partitions == 12
    assert settings.kafka_replication_factor == 3


@pytest.mark.parametrize("raw", ["zero", "0", "-2", "1.5"])
def test_a_bad_number_names_its_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="LABEL_TOPIC_PARTITIONS must be a positive integer"):
        ProvisionSettings.from_env({"LABEL_TOPIC_PARTITIONS": raw})


def test_a_label_table_per_configured_detector_named_as_the_labeler_names_them() -> None:
    settings = ProvisionSettings.from_env({
        "LABEL_TABLE": "labels",
        "LABELER_DETECTORS": "aws-rekognition,stand-in=aws-rekognition,ssd-mobilenet-v2-coco"})

    assert settings.label_tables == ("labels", "labels.stand-in", "labels.ssd-mobilenet-v2-coco")
    assert ProvisionSettings.from_env({}).label_tables == ("security_alarm_image_label_set",)


def test_a_malformed_detector_list_is_refused() -> None:
    with pytest.raises(ValueError, match="more than once"):
        ProvisionSettings.from_env({"LABELER_DETECTORS": "opencv-hog,opencv-hog"})


def test_several_queues_need_the_fan_out_topic() -> None:
    with pytest.raises(ValueError, match="IMAGE_QUEUE_NAMES needs IMAGE_TOPIC_NAME"):
        ProvisionSettings.from_env({"IMAGE_QUEUE_NAMES": "a,b"})


def test_the_topic_alone_fans_out_to_the_one_queue() -> None:
    settings = ProvisionSettings.from_env({"IMAGE_TOPIC_NAME": "t", "IMAGE_QUEUE_NAME": "q"})
    assert settings.upload_queues == (("q", "q-dlq"),)


def test_topics_take_the_contracts_largest_record_by_default() -> None:
    assert ProvisionSettings.from_env({}).label_topic_max_message_bytes == 1_048_588
    settings = ProvisionSettings.from_env({"LABEL_TOPIC_MAX_MESSAGE_BYTES": "2000000"})
    assert settings.label_topic_max_message_bytes == 2_000_000


def test_a_max_message_bytes_too_small_for_the_contract_is_refused() -> None:
    with pytest.raises(ValueError, match="LABEL_TOPIC_MAX_MESSAGE_BYTES must be at least "
                                         "1048588 .*, got 1048576"):
        ProvisionSettings.from_env({"LABEL_TOPIC_MAX_MESSAGE_BYTES": "1048576"})
