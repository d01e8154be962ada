module github.com/idpctl/idpctl

go 1.26.8
