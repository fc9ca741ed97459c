terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

# Configure only the clouds you use. Every attribute is optional: left out, it comes from the cloud's environment
# variables (UCLOUD_*, SURFERCLOUD_*, TENCENTCLOUD_*, ALICLOUD_* / ALIBABA_CLOUD_*, APSARASTACK_*) or from the cloud's
# CLI profile (~/.ucloud, ~/.tccli, ~/.aliyun). Keep secrets out of configuration files.
provider "cloudimage" {
  ucloud {
    region     = "cn-bj2"
    project_id = "org-abc123"
  }

  tencentcloud {
    region = "ap-guangzhou"
  }

  alicloud {
    region = "cn-beijing"
  }

  apsarastack {
    region   = "cn-qingdao-env17-d01"
    endpoint = "https://server.asapi.cn-qingdao-env17-d01.intra.env17.shuguang.com"
  }
}
