package benchcorpus

import "fmt"

// catalog lists the API calls the synthetic corpus is made of, weighted roughly as in a
// busy account: reads dominate, changes are rarer, sensitive calls rarest.
func catalog() []api {
	ec2 := func(name string, w int, ro bool, f func(g *generator, c *ctx) call) api {
		return api{source: "ec2.amazonaws.com", name: name, weight: w, readOnly: ro, make: f}
	}
	iam := func(name string, w int, ro bool, f func(g *generator, c *ctx) call) api {
		return api{source: "iam.amazonaws.com", name: name, weight: w, readOnly: ro, make: f}
	}
	s3 := func(name string, w int, ro, data bool, f func(g *generator, c *ctx) call) api {
		return api{source: "s3.amazonaws.com", name: name, weight: w, readOnly: ro, data: data, make: f}
	}
	other := func(source, name string, w int, ro bool, f func(g *generator, c *ctx) call) api {
		return api{source: source, name: name, weight: w, readOnly: ro, make: f}
	}
	user := simple(func(g *generator, c *ctx) obj { return obj{"userName": g.pick(userNames)} })
	role := simple(func(g *generator, c *ctx) obj { return obj{"roleName": g.pick(roleNames)} })
	instances := func(g *generator, c *ctx) call {
		items := []any{}
		for range 1 + g.r.IntN(3) {
			items = append(items, obj{"instanceId": g.instanceID()})
		}
		return call{req: obj{"instancesSet": obj{"items": items}}}
	}
	bucket := func(g *generator, c *ctx) obj {
		return obj{"bucketName": g.pick(buckets), "Host": g.pick(buckets) + ".s3." + c.region + ".amazonaws.com"}
	}
	object := func(g *generator, c *ctx) call {
		b := g.pick(buckets)
		key := fmt.Sprintf("%s/%04d/%02d/part-%05d.parquet", g.pick([]string{"raw", "curated", "exports", "tmp"}), 2024, 1+g.r.IntN(12), g.r.IntN(99999))
		return call{
			req: obj{"bucketName": b, "Host": b + ".s3." + c.region + ".amazonaws.com", "key": key},
			extra: obj{"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0,
				"bytesTransferredOut": g.r.IntN(5 << 20), "AuthenticationMethod": "AuthHeader", "x-amz-id-2": g.alnum(76)},
			resources: []obj{
				{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::" + b + "/" + key},
				{"accountId": c.acct.id, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b},
			},
		}
	}
	kms := func(g *generator, c *ctx) call {
		keyARN := "arn:aws:kms:" + c.region + ":" + c.acct.id + ":key/" + g.uuid()
		return call{
			req:       obj{"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": obj{"aws:s3:arn": "arn:aws:s3:::" + g.pick(buckets)}},
			resources: []obj{{"accountId": c.acct.id, "type": "AWS::KMS::Key", "ARN": keyARN}},
		}
	}
	trail := simple(func(g *generator, c *ctx) obj {
		return obj{"name": "arn:aws:cloudtrail:" + c.region + ":" + c.acct.id + ":trail/org-trail"}
	})
	return []api{
		// EC2
		ec2("DescribeInstances", 60, true, func(g *generator, c *ctx) call {
			return call{req: obj{"instancesSet": obj{}, "filterSet": obj{"items": []any{
				obj{"name": "instance-state-name", "valueSet": obj{"items": []any{obj{"value": "running"}, obj{"value": "stopped"}}}},
				obj{"name": "tag:Environment", "valueSet": obj{"items": []any{obj{"value": g.pick([]string{"prod", "staging", "dev"})}}}},
			}}}}
		}),
		ec2("DescribeSecurityGroups", 20, true, simple(func(g *generator, c *ctx) obj {
			return obj{"securityGroupSet": obj{}, "securityGroupIdSet": obj{}, "filterSet": obj{}}
		})),
		ec2("DescribeVolumes", 12, true, simple(func(g *generator, c *ctx) obj { return obj{"volumeSet": obj{}, "filterSet": obj{}} })),
		ec2("DescribeSnapshots", 6, true, simple(func(g *generator, c *ctx) obj {
			return obj{"snapshotSet": obj{}, "ownersSet": obj{"items": []any{obj{"owner": "self"}}}, "sharedUsersSet": obj{}, "filterSet": obj{}}
		})),
		ec2("DescribeRegions", 5, true, simple(func(g *generator, c *ctx) obj { return obj{"regionSet": obj{}} })),
		ec2("DescribeImages", 5, true, simple(func(g *generator, c *ctx) obj {
			return obj{"executableBySet": obj{}, "imagesSet": obj{"items": []any{obj{"imageId": "ami-0" + g.hex(16)}}}, "ownersSet": obj{}}
		})),
		ec2("DescribeInstanceAttribute", 1, true, simple(func(g *generator, c *ctx) obj {
			return obj{"instanceId": g.instanceID(), "attribute": g.pick([]string{"userData", "instanceType", "disableApiTermination"})}
		})),
		ec2("RunInstances", 3, false, func(g *generator, c *ctx) call {
			id := g.instanceID()
			return call{
				req: obj{"instancesSet": obj{"items": []any{obj{"imageId": "ami-0" + g.hex(16), "minCount": 1, "maxCount": 1}}},
					"instanceType": g.pick(instanceTypes), "blockDeviceMapping": obj{}, "monitoring": obj{"enabled": false},
					"disableApiTermination": false, "iamInstanceProfile": obj{"name": g.pick(roleNames)},
					"networkInterfaceSet": obj{"items": []any{obj{"deviceIndex": 0, "subnetId": "subnet-0" + g.hex(16), "associatePublicIpAddress": true}}}},
				resp: obj{"requestId": g.uuid(), "reservationId": "r-0" + g.hex(16), "ownerId": c.acct.id, "groupSet": obj{},
					"instancesSet": obj{"items": []any{obj{"instanceId": id, "imageId": "ami-0" + g.hex(16),
						"instanceState": obj{"code": 0, "name": "pending"}, "privateDnsName": "ip-10-0-1-23.ec2.internal",
						"amiLaunchIndex": 0, "productCodes": obj{}, "instanceType": g.pick(instanceTypes),
						"launchTime": 1709251200000, "placement": obj{"availabilityZone": c.region + "a", "tenancy": "default"},
						"monitoring": obj{"state": "disabled"}, "subnetId": "subnet-0" + g.hex(16), "vpcId": "vpc-0" + g.hex(16),
						"privateIpAddress": "10.0.1.23", "sourceDestCheck": true, "architecture": "x86_64", "rootDeviceType": "ebs",
						"rootDeviceName": "/dev/xvda", "virtualizationType": "hvm", "hypervisor": "xen", "ebsOptimized": false}}}},
			}
		}),
		ec2("TerminateInstances", 1, false, instances),
		ec2("StopInstances", 1, false, instances),
		ec2("StartInstances", 1, false, instances),
		ec2("CreateSecurityGroup", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"groupName": "sg-" + g.alnum(8), "groupDescription": "managed by terraform", "vpcId": "vpc-0" + g.hex(16)}
		})),
		ec2("AuthorizeSecurityGroupIngress", 2, false, simple(func(g *generator, c *ctx) obj {
			port := []int{22, 443, 3389, 5432, 8080}[g.r.IntN(5)]
			cidr := g.pick([]string{"0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24"})
			return obj{"groupId": "sg-0" + g.hex(16), "ipPermissions": obj{"items": []any{obj{"ipProtocol": "tcp",
				"fromPort": port, "toPort": port, "groups": obj{}, "ipRanges": obj{"items": []any{obj{"cidrIp": cidr}}},
				"ipv6Ranges": obj{}, "prefixListIds": obj{}}}}}
		})),
		ec2("CreateKeyPair", 1, false, simple(func(g *generator, c *ctx) obj { return obj{"keyName": "key-" + g.alnum(6)} })),
		ec2("ImportKeyPair", 1, false, simple(func(g *generator, c *ctx) obj { return obj{"keyName": "imported-" + g.alnum(6)} })),
		ec2("ModifyInstanceAttribute", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"instanceId": g.instanceID(), "userData": "<sensitiveDataRemoved>"}
		})),
		ec2("CreateSnapshot", 1, false, simple(func(g *generator, c *ctx) obj { return obj{"volumeId": "vol-0" + g.hex(16)} })),
		ec2("ModifySnapshotAttribute", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"snapshotId": "snap-0" + g.hex(16), "createVolumePermission": obj{"add": obj{"items": []any{obj{"userId": "999988887777"}}}}, "attributeType": "CREATE_VOLUME_PERMISSION"}
		})),
		ec2("GetPasswordData", 1, true, simple(func(g *generator, c *ctx) obj { return obj{"instanceId": g.instanceID()} })),

		// IAM
		iam("ListUsers", 6, true, noParams),
		iam("ListRoles", 6, true, noParams),
		iam("GetUser", 4, true, user),
		iam("ListAccessKeys", 4, true, user),
		iam("ListAttachedUserPolicies", 3, true, user),
		iam("GetAccountAuthorizationDetails", 1, true, noParams),
		iam("CreateUser", 1, false, func(g *generator, c *ctx) call {
			n := "svc-" + g.alnum(6)
			return call{req: obj{"userName": n}, resp: obj{"user": obj{"path": "/", "userName": n, "userId": "AIDA" + g.upper(17),
				"arn": "arn:aws:iam::" + c.acct.id + ":user/" + n, "createDate": "Mar 1, 2024, 12:00:00 AM"}}}
		}),
		iam("CreateAccessKey", 1, false, func(g *generator, c *ctx) call {
			n := g.pick(userNames)
			return call{req: obj{"userName": n}, resp: obj{"accessKey": obj{"userName": n, "accessKeyId": "AKIA" + g.upper(16),
				"status": "Active", "createDate": "Mar 1, 2024, 12:00:00 AM"}}}
		}),
		iam("AttachUserPolicy", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"userName": g.pick(userNames), "policyArn": g.pick([]string{"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonS3FullAccess"})}
		})),
		iam("AttachRolePolicy", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"roleName": g.pick(roleNames), "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
		})),
		iam("PutUserPolicy", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"userName": g.pick(userNames), "policyName": "inline-" + g.alnum(5), "policyDocument": g.policy(c)}
		})),
		iam("PutRolePolicy", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"roleName": g.pick(roleNames), "policyName": "inline-" + g.alnum(5), "policyDocument": g.policy(c)}
		})),
		iam("CreatePolicyVersion", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"policyArn": "arn:aws:iam::" + c.acct.id + ":policy/app-" + g.alnum(4), "policyDocument": g.policy(c), "setAsDefault": true}
		})),
		iam("CreateLoginProfile", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"userName": g.pick(userNames), "passwordResetRequired": false}
		})),
		iam("UpdateLoginProfile", 1, false, user),
		iam("DeleteUser", 1, false, user),
		iam("AddUserToGroup", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"userName": g.pick(userNames), "groupName": g.pick([]string{"Admins", "Developers", "ReadOnly"})}
		})),
		iam("UpdateAssumeRolePolicy", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"roleName": g.pick(roleNames), "policyDocument": g.policy(c)}
		})),
		iam("CreateRole", 1, false, role),

		// STS
		other("sts.amazonaws.com", "AssumeRole", 30, true, func(g *generator, c *ctx) call {
			rn, sn := g.pick(roleNames), g.pick(sessionNames)
			return call{
				req: obj{"roleArn": "arn:aws:iam::" + c.acct.id + ":role/" + rn, "roleSessionName": sn, "durationSeconds": 3600},
				resp: obj{"credentials": obj{"accessKeyId": "ASIA" + g.upper(16), "sessionToken": g.alnum(120), "expiration": "Mar 1, 2024, 1:00:00 AM"},
					"assumedRoleUser": obj{"assumedRoleId": "AROA" + g.upper(17) + ":" + sn, "arn": "arn:aws:sts::" + c.acct.id + ":assumed-role/" + rn + "/" + sn}},
				resources: []obj{{"accountId": c.acct.id, "type": "AWS::IAM::Role", "ARN": "arn:aws:iam::" + c.acct.id + ":role/" + rn}},
			}
		}),
		other("sts.amazonaws.com", "GetCallerIdentity", 10, true, noParams),
		other("sts.amazonaws.com", "GetSessionToken", 2, true, simple(func(g *generator, c *ctx) obj { return obj{"durationSeconds": 43200} })),
		other("sts.amazonaws.com", "GetFederationToken", 1, true, simple(func(g *generator, c *ctx) obj {
			return obj{"name": g.pick(userNames), "durationSeconds": 129600, "policy": g.policy(c)}
		})),
		other("sts.amazonaws.com", "AssumeRoleWithWebIdentity", 3, true, simple(func(g *generator, c *ctx) obj {
			return obj{"roleArn": "arn:aws:iam::" + c.acct.id + ":role/github-actions-deploy", "roleSessionName": "GitHubActions"}
		})),

		// S3 (data events, then management)
		s3("GetObject", 45, true, true, object),
		s3("PutObject", 20, false, true, object),
		s3("HeadObject", 8, true, true, object),
		s3("DeleteObject", 2, false, true, object),
		s3("ListObjects", 8, true, true, simple(func(g *generator, c *ctx) obj {
			o := bucket(g, c)
			o["prefix"], o["delimiter"], o["list-type"] = "exports/", "/", "2"
			return o
		})),
		s3("ListBuckets", 5, true, false, simple(func(g *generator, c *ctx) obj { return obj{"Host": "s3.amazonaws.com"} })),
		s3("GetBucketAcl", 4, true, false, simple(func(g *generator, c *ctx) obj { o := bucket(g, c); o["acl"] = ""; return o })),
		s3("GetBucketLocation", 4, true, false, simple(bucket)),
		s3("GetBucketPolicy", 3, true, false, simple(bucket)),
		s3("PutBucketPolicy", 1, false, false, simple(func(g *generator, c *ctx) obj {
			o := bucket(g, c)
			o["bucketPolicy"] = obj{"Version": "2012-10-17", "Statement": []any{obj{"Effect": "Allow", "Principal": "*",
				"Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + o["bucketName"].(string) + "/*"}}}
			return o
		})),
		s3("DeleteBucketPolicy", 1, false, false, simple(bucket)),
		s3("PutBucketAcl", 1, false, false, simple(bucket)),
		s3("PutBucketVersioning", 1, false, false, simple(func(g *generator, c *ctx) obj {
			o := bucket(g, c)
			o["VersioningConfiguration"] = obj{"Status": g.pick([]string{"Enabled", "Suspended"}), "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}
			return o
		})),
		s3("PutBucketPublicAccessBlock", 1, false, false, simple(bucket)),
		s3("DeleteBucket", 1, false, false, simple(bucket)),

		// Console sign-in
		{source: "signin.amazonaws.com", name: "ConsoleLogin", weight: 3, make: func(g *generator, c *ctx) call {
			res := "Success"
			if g.r.IntN(8) == 0 {
				res = "Failure"
			}
			mfa := "Yes"
			if g.r.IntN(3) == 0 {
				mfa = "No"
			}
			return call{resp: obj{"ConsoleLogin": res}, extra: obj{"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
				"MobileVersion": "No", "MFAIdentifier": "arn:aws:iam::" + c.acct.id + ":mfa/" + g.pick(userNames), "MFAUsed": mfa}}
		}},
		{source: "signin.amazonaws.com", name: "GetSigninToken", weight: 1, make: func(g *generator, c *ctx) call {
			return call{resp: obj{"GetSigninToken": "Success"}, extra: obj{"MobileVersion": "No"}}
		}},

		// ECS
		other("ecs.amazonaws.com", "ListClusters", 4, true, noParams),
		other("ecs.amazonaws.com", "DescribeClusters", 3, true, simple(func(g *generator, c *ctx) obj {
			return obj{"clusters": []any{"arn:aws:ecs:" + c.region + ":" + c.acct.id + ":cluster/prod"}}
		})),
		other("ecs.amazonaws.com", "ListTasks", 4, true, simple(func(g *generator, c *ctx) obj { return obj{"cluster": "prod"} })),
		other("ecs.amazonaws.com", "DescribeTaskDefinition", 3, true, simple(func(g *generator, c *ctx) obj { return obj{"taskDefinition": "orders:42"} })),
		other("ecs.amazonaws.com", "RegisterTaskDefinition", 1, false, simple(func(g *generator, c *ctx) obj {
			cmd := []any{"/bin/sh", "-c", g.pick([]string{"node server.js", "curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "python app.py"})}
			return obj{"family": "orders", "networkMode": "awsvpc", "requiresCompatibilities": []any{"FARGATE"}, "cpu": "256", "memory": "512",
				"executionRoleArn": "arn:aws:iam::" + c.acct.id + ":role/ecsTaskExecutionRole",
				"containerDefinitions": []any{obj{"name": "app", "image": c.acct.id + ".dkr.ecr." + c.region + ".amazonaws.com/orders:" + g.hex(7),
					"essential": true, "command": cmd, "portMappings": []any{obj{"containerPort": 8080, "protocol": "tcp"}}}}}
		})),
		other("ecs.amazonaws.com", "RunTask", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"cluster": "prod", "taskDefinition": "orders:42", "count": 1, "launchType": "FARGATE"}
		})),
		other("ecs.amazonaws.com", "ExecuteCommand", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"cluster": "prod", "container": "app", "command": "/bin/sh", "interactive": true, "task": g.hex(32)}
		})),

		// KMS, CloudTrail, Lambda, Secrets Manager, SSM, GuardDuty, Logs, Config, Organizations, SES
		other("kms.amazonaws.com", "Decrypt", 30, true, kms),
		other("kms.amazonaws.com", "GenerateDataKey", 12, true, kms),
		other("kms.amazonaws.com", "ScheduleKeyDeletion", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"keyId": g.uuid(), "pendingWindowInDays": 7}
		})),
		other("kms.amazonaws.com", "DisableKey", 1, false, simple(func(g *generator, c *ctx) obj { return obj{"keyId": g.uuid()} })),
		other("cloudtrail.amazonaws.com", "LookupEvents", 3, true, simple(func(g *generator, c *ctx) obj { return obj{"maxResults": 50} })),
		other("cloudtrail.amazonaws.com", "DescribeTrails", 3, true, noParams),
		other("cloudtrail.amazonaws.com", "StopLogging", 1, false, trail),
		other("cloudtrail.amazonaws.com", "DeleteTrail", 1, false, trail),
		other("cloudtrail.amazonaws.com", "UpdateTrail", 1, false, trail),
		other("cloudtrail.amazonaws.com", "PutEventSelectors", 1, false, trail),
		other("lambda.amazonaws.com", "ListFunctions20150331", 4, true, noParams),
		other("lambda.amazonaws.com", "GetFunction20150331v2", 3, true, simple(func(g *generator, c *ctx) obj { return obj{"functionName": "orders-api"} })),
		other("lambda.amazonaws.com", "CreateFunction20150331", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"functionName": "fn-" + g.alnum(6), "runtime": "python3.12", "handler": "app.handler",
				"role": "arn:aws:iam::" + c.acct.id + ":role/lambda-orders-exec", "code": obj{}, "timeout": 30}
		})),
		other("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"functionName": "orders-api", "publish": true}
		})),
		other("lambda.amazonaws.com", "AddPermission20150331v2", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"functionName": "orders-api", "statementId": g.alnum(8), "action": "lambda:InvokeFunction", "principal": "*"}
		})),
		other("secretsmanager.amazonaws.com", "GetSecretValue", 5, true, simple(func(g *generator, c *ctx) obj {
			return obj{"secretId": "arn:aws:secretsmanager:" + c.region + ":" + c.acct.id + ":secret:prod/db-" + g.alnum(6)}
		})),
		other("secretsmanager.amazonaws.com", "ListSecrets", 2, true, noParams),
		other("ssm.amazonaws.com", "GetParameters", 8, true, simple(func(g *generator, c *ctx) obj {
			return obj{"names": []any{"/prod/orders/db_password", "/prod/orders/api_key"}, "withDecryption": true}
		})),
		other("ssm.amazonaws.com", "DescribeInstanceInformation", 3, true, noParams),
		other("ssm.amazonaws.com", "StartSession", 1, false, simple(func(g *generator, c *ctx) obj { return obj{"target": g.instanceID()} })),
		other("ssm.amazonaws.com", "SendCommand", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"instanceIds": []any{g.instanceID()}, "documentName": "AWS-RunShellScript", "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS"}
		})),
		other("guardduty.amazonaws.com", "ListDetectors", 2, true, noParams),
		other("guardduty.amazonaws.com", "DeleteDetector", 1, false, simple(func(g *generator, c *ctx) obj { return obj{"detectorId": g.hex(32)} })),
		other("guardduty.amazonaws.com", "UpdateDetector", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"detectorId": g.hex(32), "enable": false}
		})),
		other("logs.amazonaws.com", "CreateLogStream", 10, false, simple(func(g *generator, c *ctx) obj {
			return obj{"logGroupName": "/aws/lambda/orders-api", "logStreamName": "2024/03/01/[$LATEST]" + g.hex(32)}
		})),
		other("logs.amazonaws.com", "DescribeLogGroups", 3, true, noParams),
		other("logs.amazonaws.com", "DeleteLogGroup", 1, false, simple(func(g *generator, c *ctx) obj { return obj{"logGroupName": "/aws/lambda/orders-api"} })),
		other("config.amazonaws.com", "DescribeConfigurationRecorders", 2, true, noParams),
		other("config.amazonaws.com", "StopConfigurationRecorder", 1, false, simple(func(g *generator, c *ctx) obj {
			return obj{"configurationRecorderName": "default"}
		})),
		other("organizations.amazonaws.com", "DescribeOrganization", 2, true, noParams),
		other("organizations.amazonaws.com", "ListAccounts", 1, true, noParams),
		other("ses.amazonaws.com", "GetSendQuota", 1, true, noParams),
		other("ses.amazonaws.com", "ListIdentities", 1, true, simple(func(g *generator, c *ctx) obj { return obj{"identityType": "EmailAddress"} })),
	}
}
