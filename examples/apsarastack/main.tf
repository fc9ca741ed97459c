# Apsara Stack ECS (Alibaba's private cloud): a CentOS image from OSS, ECS called as the official Apsara Stack
# provider calls it (set api_style = "route" for a gateway that serves only /apsara/route/Ecs/<Action>).
#
# Credentials: APSARASTACK_ACCESS_KEY and APSARASTACK_SECRET_KEY; the gateway from APSARASTACK_ENDPOINT or here.

terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

provider "cloudimage" {
  apsarastack {
    region            = "cn-qingdao-env17-d01"
    endpoint          = "https://server.asapi.cn-qingdao-env17-d01.intra.env17.shuguang.com"
    organization_id   = "42"
    resource_group_id = "7"
  }
}

resource "cloudimage_custom_image" "centos" {
  cloud        = "apsarastack"
  name         = "centos-7-9-golden"
  source_url   = "oss://acme-images/centos-7.9.qcow2"
  format       = "qcow2"
  platform     = "CentOS"
  architecture = "x86_64"
}

output "image_id" {
  value = cloudimage_custom_image.centos.id
}
