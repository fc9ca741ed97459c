# `terraform test` for the golden-image module in ../main.tf, against cloudimage-sim: the kind of suite you would
# write for your own module. Run from tests/terraform/ with the simulator's address:
#
#   cloudimage-sim --listen 127.0.0.1:8470 --import-seconds 1 &
#   terraform test -var sim_endpoint=http://127.0.0.1:8470
#
# Needs Terraform 1.13 or later (a `variable` block in a test file). tests/terraform_suite.rs runs it in cargo test.

variable "sim_endpoint" {
  type        = string
  description = "Base URL of cloudimage-sim."
}

# The simulator's built-in keys (docs/simulator.md).
provider "cloudimage" {
  tencentcloud {
    secret_id  = "AKIDsimTencentSecretId000000000000"
    secret_key = "simTencentSecretKey0000000000000"
    endpoint   = "${var.sim_endpoint}/tencentcloud"
  }
  alicloud {
    access_key   = "LTAIsimAlicloudKey0000000"
    secret_key   = "simAlicloudSecret000000000000000"
    ecs_endpoint = "${var.sim_endpoint}/alicloud/ecs"
    ens_endpoint = "${var.sim_endpoint}/alicloud/ens"
  }
}

variables {
  cloud      = "tencentcloud"
  region     = "ap-guangzhou"
  release    = "2024-06"
  source_url = "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/golden-2024-06.qcow2"
  platform   = "CentOS"
  os_version = "7"
}

run "rejects_an_unsupported_cloud" {
  command = plan

  variables {
    cloud = "aws"
  }

  expect_failures = [var.cloud]
}

run "plans_the_name_from_the_release" {
  command = plan

  assert {
    condition     = cloudimage_custom_image.golden.name == "golden-2024-06"
    error_message = "the image name follows the release"
  }
}

run "imports_and_waits_until_available" {
  assert {
    condition     = output.status == "available"
    error_message = "apply returns once the image can boot instances"
  }
  assert {
    condition     = startswith(output.id, "img-")
    error_message = "Tencent Cloud image IDs start with img-"
  }
  assert {
    condition     = cloudimage_custom_image.golden.os_type == "linux"
    error_message = "the cloud fills in os_type"
  }
}

run "renames_in_place" {
  variables {
    release = "2024-06-1"
  }

  assert {
    condition     = output.id == run.imports_and_waits_until_available.id
    error_message = "Tencent Cloud renames an image without replacing it"
  }
  assert {
    condition     = cloudimage_custom_image.golden.name == "golden-2024-06-1"
    error_message = "the new name is in state"
  }
}

run "moves_to_alibaba_ecs" {
  variables {
    cloud      = "alicloud"
    region     = "cn-beijing"
    source_url = "oss://images/golden-2024-06.qcow2"
    os_version = null
  }

  assert {
    condition     = startswith(output.id, "m-")
    error_message = "ECS image IDs start with m-"
  }
  assert {
    condition     = output.status == "available"
    error_message = "the ECS import finished"
  }
}
