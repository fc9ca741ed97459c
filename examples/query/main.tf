# Adopting the images an account already has: `terraform query` (Terraform 1.14+) runs the list blocks of
# images.tfquery.hcl; `terraform query -generate-config-out=generated.tf` writes a resource and an import block for
# each image found, and `terraform apply` adopts them.
terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

provider "cloudimage" {
  tencentcloud {
    region = "ap-guangzhou"
  }
  alicloud {
    region = "cn-beijing"
  }
}
