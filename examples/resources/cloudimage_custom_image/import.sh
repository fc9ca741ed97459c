# Import ID: <cloud>/<region>/<image-id>
terraform import cloudimage_custom_image.centos alicloud/cn-hangzhou/m-bp1g7004ksh0oeuco4b2
