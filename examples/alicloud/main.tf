# Alibaba Cloud ECS: an Ubuntu image from a qcow2 file in OSS.
#
# Credentials: ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY (or ALIBABA_CLOUD_ACCESS_KEY_ID and
# ALIBABA_CLOUD_ACCESS_KEY_SECRET), or the aliyun CLI profile in ~/.aliyun/config.json.
# Once per account, ECS must be allowed to read OSS: authorize the AliyunECSImageImportDefaultRole RAM role.

terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

provider "cloudimage" {
  alicloud {
    region = "cn-hangzhou"
  }
}

resource "cloudimage_custom_image" "ubuntu" {
  cloud        = "alicloud"
  name         = "ubuntu-22-04-golden"
  description  = "Ubuntu 22.04 golden image"
  source_url   = "https://acme-images.oss-cn-hangzhou.aliyuncs.com/ubuntu/22.04.qcow2"
  format       = "qcow2"
  platform     = "Ubuntu"
  architecture = "x86_64"
  boot_mode    = "UEFI"

  tags = {
    team = "platform"
  }

  timeouts {
    create = "90m"
  }
}

output "image_id" {
  value = cloudimage_custom_image.ubuntu.id
}
