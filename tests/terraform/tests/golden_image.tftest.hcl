# Runs with `terraform test -var sim_endpoint=http://127.0.0.1:PORT` against cloudimage-sim.

variable "sim_endpoint" {
  type = string
}

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

run "imports_and_waits_until_available" {
  assert {
    condition     = cloudimage_custom_image.golden.status == "available"
    error_message = "the image should be available after apply"
  }
  assert {
    condition     = startswith(output.id, "img-")
    error_message = "Tencent image IDs start with img-"
  }
}

run "renames_in_place" {
  variables {
    release = "2024-06-hotfix"
  }
  assert {
    condition     = output.id == run.imports_and_waits_until_available.id
    error_message = "a rename on Tencent Cloud keeps the image"
  }
  assert {
    condition     = cloudimage_custom_image.golden.name == "golden-2024-06-hotfix"
    error_message = "the new name is in state"
  }
}
