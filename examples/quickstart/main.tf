# Quick start: import a disk image into one cloud of cloudimage-sim, the local simulator of all six backends.
#
#   cloudimage-sim --listen 127.0.0.1:8470 --import-seconds 3 &
#   terraform apply -var cloud=alicloud
#
# Against a real cloud, drop the endpoints and the simulator's keys (see examples/<cloud>/).

terraform {
  required_version = ">= 1.0"
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

variable "cloud" {
  description = "Which backend to import into: ucloud, surfercloud, tencentcloud, alicloud, alicloud_ens or apsarastack."
  type        = string
  default     = "tencentcloud"

  validation {
    condition     = contains(["ucloud", "surfercloud", "tencentcloud", "alicloud", "alicloud_ens", "apsarastack"], var.cloud)
    error_message = "The cloud must be one of ucloud, surfercloud, tencentcloud, alicloud, alicloud_ens, apsarastack."
  }
}

variable "sim_endpoint" {
  description = "Base URL of cloudimage-sim, as it prints on start-up."
  type        = string
  default     = "http://127.0.0.1:8470"
}

# Each cloud has its own object storage URL shape and its own required attributes.
locals {
  presets = {
    ucloud = {
      region     = "cn-bj2"
      source_url = "https://images.cn-bj.ufileos.com/quickstart.qcow2"
      platform   = "CentOS"
      os_version = "CentOS 7.9 64"
    }
    surfercloud = {
      region     = "hk"
      source_url = "https://images.hk.ufileos.com/quickstart.qcow2"
      platform   = "Ubuntu"
      os_version = "Ubuntu 22.04"
    }
    tencentcloud = {
      region     = "ap-guangzhou"
      source_url = "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/quickstart.qcow2"
      platform   = "CentOS"
      os_version = "7"
    }
    alicloud = {
      region     = "cn-beijing"
      source_url = "oss://images/quickstart.qcow2"
      platform   = "CentOS"
      os_version = null
    }
    alicloud_ens = {
      region     = "cn-beijing"
      source_url = "oss://images/quickstart.qcow2"
      platform   = null
      os_version = "7.9"
    }
    apsarastack = {
      region     = "cn-qingdao-env17-d01"
      source_url = "oss://images/quickstart.qcow2"
      platform   = "CentOS"
      os_version = null
    }
  }
  preset = local.presets[var.cloud]
}

# The simulator's built-in keys (docs/simulator.md). Only the block of the cloud in use is ever called.
provider "cloudimage" {
  ucloud {
    public_key  = "sim-ucloud-public-key"
    private_key = "sim-ucloud-private-key"
    endpoint    = "${var.sim_endpoint}/ucloud"
  }
  surfercloud {
    public_key  = "sim-surfercloud-public-key"
    private_key = "sim-surfercloud-private-key"
    endpoint    = "${var.sim_endpoint}/surfercloud"
  }
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
  apsarastack {
    access_key = "simApsaraStackKey0000000"
    secret_key = "simApsaraStackSecret00000000000"
    endpoint   = "${var.sim_endpoint}/apsarastack"
  }
}

resource "cloudimage_custom_image" "quickstart" {
  cloud      = var.cloud
  region     = local.preset.region
  name       = "quickstart-${replace(var.cloud, "_", "-")}"
  source_url = local.preset.source_url
  format     = "qcow2"
  platform   = local.preset.platform
  os_version = local.preset.os_version
}

output "image_id" {
  description = "The image ID, ready for an instance's image_id."
  value       = cloudimage_custom_image.quickstart.id
}

output "status" {
  description = "available once the image can boot instances."
  value       = cloudimage_custom_image.quickstart.status
}

output "import_id" {
  description = "What `terraform import` takes for this image."
  value       = "${var.cloud}/${cloudimage_custom_image.quickstart.region}/${cloudimage_custom_image.quickstart.id}"
}
